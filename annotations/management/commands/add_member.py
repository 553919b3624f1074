from annotations.management.base import AtlasCommand
from annotations.management.lookups import project_with_slug, user_named
from annotations.models import Role
from annotations.services.memberships import membership_set


class Command(AtlasCommand):
    help = "Give a user a role in a project, adding them or changing the role they have."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--user", required=True, metavar="USERNAME")
        parser.add_argument("--role", required=True, choices=Role.values)

    def handle(self, *args, **options):
        project = project_with_slug(options["project"])
        user = user_named(options["user"])
        membership = membership_set(project=project, user=user, role=options["role"], actor=None)
        self.stdout.write(
            f"{user.username!r} is now {membership.role} of project {project.slug!r}."
        )
