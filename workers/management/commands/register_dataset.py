"""``manage.py register_dataset``: a local folder of images for dataset-example jobs."""

from django.core.management.base import BaseCommand, CommandError

from server.errors import DomainError
from workers.services.datasets import dataset_register


class Command(BaseCommand):
    help = "Register a folder of images (searched recursively) as a dataset."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--folder", required=True)
        parser.add_argument("--description", default="")

    def handle(self, *args, name, folder, description, **options):
        try:
            dataset = dataset_register(name=name, path=folder, description=description)
        except DomainError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(
            self.style.SUCCESS(f"registered dataset {dataset.name}: {dataset.image_count} images")
        )
