"""``manage.py register_network``: add a network to the catalog (and to a project)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotations.models import Project
from annotations.services.networks import project_network_register
from server.errors import DomainError


class Command(BaseCommand):
    help = (
        "Register a network: a built-in architecture with a weights file, its bundled weights "
        "or random weights (an untrained control), or a TorchScript file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Catalog name, e.g. mobilenet-v2.")
        parser.add_argument("--arch", choices=["mobilenet_v2", "inception_v1"])
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--weights", metavar="FILE", help="State dict (.pt/.pth/.safetensors).")
        source.add_argument(
            "--bundled-weights",
            action="store_true",
            help="The ImageNet weights that ship with a package (mobilenet_v2).",
        )
        source.add_argument(
            "--random-weights", action="store_true", help="Untrained, seeded (see --seed)."
        )
        source.add_argument("--torchscript", metavar="FILE", help="A TorchScript file.")
        parser.add_argument("--seed", type=int, default=0, help="Seed for --random-weights.")
        parser.add_argument("--input-size", type=int, default=224)
        parser.add_argument("--description", default="")
        parser.add_argument("--project", help="Slug of a project to add the network to.")

    def handle(self, *args, **options):
        if not options["torchscript"] and not options["arch"]:
            raise CommandError("--arch is required unless --torchscript is given.")
        project = None
        if options["project"]:
            project = Project.objects.filter(slug=options["project"]).first()
            if project is None:
                raise CommandError(f"No project with slug {options['project']!r}.")
        self.stdout.write(f"loading and checking {options['name']} ...")
        bar = tqdm(desc="creating units", unit="unit", file=self.stderr, disable=None)

        def progress(step, done, total):
            bar.total = total
            bar.update(done - bar.n)

        try:
            network = project_network_register(
                project=project,
                actor=None,
                name=options["name"],
                arch=options["arch"] or "",
                weights=options["weights"],
                bundled_weights=options["bundled_weights"],
                random_seed=options["seed"] if options["random_weights"] else None,
                torchscript=options["torchscript"],
                input_size=options["input_size"],
                description=options["description"],
                progress=progress,
            )
        except DomainError as error:
            details = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.fields.items()
            )
            raise CommandError(f"{error.detail}" + (f" ({details})" if details else "")) from error
        finally:
            bar.close()
        layers = network.layers.count()
        units = network.units.count()
        where = f" in project {project.slug}" if project else ""
        self.stdout.write(
            self.style.SUCCESS(f"registered {network.name}{where}: {layers} layers, {units} units")
        )
