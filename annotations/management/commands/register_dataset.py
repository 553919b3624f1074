"""``manage.py register_dataset``: a local folder of images for dataset-example jobs."""

from django.core.management.base import BaseCommand, CommandError

from annotations.models import Project
from annotations.services.datasets import project_dataset_register
from server.errors import DomainError
from workers.services.datasets import dataset_register


class Command(BaseCommand):
    help = (
        "Register a folder of images (searched recursively) as a dataset, for one project's "
        "members or, with --public, for every signed-in user."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--folder", required=True)
        parser.add_argument("--description", default="")
        scope = parser.add_mutually_exclusive_group(required=True)
        scope.add_argument("--project", help="Slug of the project whose members may use it.")
        scope.add_argument("--public", action="store_true", help="Open to every signed-in user.")

    def handle(self, *args, name, folder, description, project, public, **options):
        fields = {"name": name, "path": folder, "description": description}
        try:
            if public:
                dataset = dataset_register(public=True, **fields)
            else:
                dataset = project_dataset_register(
                    project=self._project(project), actor=None, **fields
                )
        except DomainError as error:
            raise CommandError(error.detail) from error
        scope = "public" if public else f"project {project}"
        self.stdout.write(
            self.style.SUCCESS(
                f"registered dataset {dataset.name} ({scope}): {dataset.image_count} images"
            )
        )

    def _project(self, slug):
        project = Project.objects.filter(slug=slug).first()
        if project is None:
            raise CommandError(f"No project with slug {slug!r}.")
        return project
