from django.core.management.base import BaseCommand, CommandError

from server.errors import DomainError


class AtlasCommand(BaseCommand):
    """A command that reports the services' domain errors as CommandErrors."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DomainError as error:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.fields.items()
            )
            raise CommandError(f"{error.detail} {problems}".strip()) from error
