from annotations.management.base import AtlasCommand
from annotations.management.lookups import user_named
from annotations.services.projects import project_create


class Command(AtlasCommand):
    help = "Create a project owned by an existing user."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner", required=True, metavar="USERNAME")
        parser.add_argument("--description", default="")

    def handle(self, *args, **options):
        owner = user_named(options["owner"])
        project = project_create(
            slug=options["slug"],
            name=options["name"],
            description=options["description"],
            actor=owner,
        )
        self.stdout.write(f"Created project {project.slug!r} owned by {owner.username!r}.")
