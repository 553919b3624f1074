import sys

from annotations.management.base import AtlasCommand
from annotations.services.accounts import user_create
from annotations.services.tokens import token_create


class Command(AtlasCommand):
    help = "Create a user; with --token, print a new API token for them."
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("username")
        password = parser.add_mutually_exclusive_group()
        password.add_argument("--password", help="Visible in the process list; prefer stdin.")
        password.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from one line of stdin.",
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true")
        parser.add_argument(
            "--token", action="store_true", help="Print a new API token for the user."
        )

    def handle(self, *args, **options):
        password = options["password"]
        if options["password_stdin"]:
            password = options.get("stdin", sys.stdin).readline().rstrip("\r\n")
        user = user_create(
            username=options["username"],
            password=password,
            email=options["email"],
            is_superuser=options["superuser"],
            actor=None,
        )
        self.stdout.write(f"Created user {user.username!r}.")
        if options["token"]:
            self.stdout.write(token_create(actor=user, name="createuser --token").secret)
