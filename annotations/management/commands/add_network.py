from annotations.management.base import AtlasCommand
from annotations.management.lookups import project_with_slug
from annotations.services.project_networks import project_network_add


class Command(AtlasCommand):
    help = "Add a network already in the catalog to a project, without registering it again."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--network", required=True, metavar="NAME")

    def handle(self, *args, **options):
        project = project_with_slug(options["project"])
        link = project_network_add(project=project, network_name=options["network"], actor=None)
        self.stdout.write(f"Project {project.slug!r} now studies {link.network.name!r}.")
