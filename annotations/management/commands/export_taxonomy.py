"""``manage.py export_taxonomy``: write a project's taxonomy (live or a release) to a file."""

import os
from pathlib import Path

from django.core.management.base import CommandError
from tqdm import tqdm

from annotations.management.base import AtlasCommand
from annotations.management.lookups import project_with_slug, user_named
from annotations.selectors.exports import export_network_get
from annotations.selectors.releases import release_get
from annotations.services.exports import FORMATS, taxonomy_export


class Command(AtlasCommand):
    help = (
        "Export the taxonomy of one network of a project as JSON, CSV or an HTML overview, "
        "streamed to PATH with a progress bar on stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument("--out", required=True, metavar="PATH")
        parser.add_argument(
            "--release", metavar="NAME", help="A release; the live taxonomy if not."
        )
        parser.add_argument(
            "--network", metavar="NAME", help="Needed when the project studies several networks."
        )
        parser.add_argument("--comments", action="store_true", help="JSON: add the comments.")
        parser.add_argument(
            "--base-url",
            default="",
            metavar="URL",
            help="Where the service runs, for the HTML overview's links to each unit.",
        )
        parser.add_argument(
            "--user", metavar="USERNAME", help="Export as this member (default: the system)."
        )

    def handle(self, *args, **options):
        project = project_with_slug(options["project"])
        actor = user_named(options["user"]) if options["user"] else None
        release = (
            release_get(project=project, name=options["release"]) if options["release"] else None
        )
        network = export_network_get(project=project, network_name=options["network"])
        out = Path(options["out"])
        if not out.parent.is_dir():
            raise CommandError(f"No folder {out.parent} to write {out.name} into.")
        bar = tqdm(
            desc=f"exporting {options['format']}", unit="unit", file=self.stderr, disable=None
        )

        def progress(done, total):
            bar.total = total
            bar.update(done - bar.n)

        export = taxonomy_export(
            project=project,
            network=network,
            actor=actor,
            format=options["format"],
            release=release,
            include_comments=options["comments"],
            base_url=options["base_url"],
            progress=progress,
        )
        partial = out.with_name(f".{out.name}.partial")
        try:
            with partial.open("w", encoding="utf-8", newline="") as handle:
                for chunk in export.chunks:
                    handle.write(chunk)
            os.replace(partial, out)
        finally:
            bar.close()
            partial.unlink(missing_ok=True)
        what = f"release {release.name}" if release else "the live taxonomy"
        self.stdout.write(
            self.style.SUCCESS(
                f"wrote {what} of {project.slug}/{network.name} ({export.units} units) to {out}"
            )
        )
