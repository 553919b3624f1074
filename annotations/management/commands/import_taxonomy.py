"""``manage.py import_taxonomy``: import a taxonomy file into a project (or dry-run it)."""

from pathlib import Path

from django.core.management.base import CommandError

from annotations.management.base import AtlasCommand
from annotations.management.lookups import project_with_slug, user_named
from annotations.selectors.taxonomy import project_network_get
from annotations.services.imports import taxonomy_import


class Command(AtlasCommand):
    help = (
        "Import a taxonomy file into one network of a project: the JSON export, the CSV export, "
        "or the simple CSV layer,unit,group,parent_group,description. The whole file is checked "
        "first; a bad file changes nothing and every bad row is named."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--project", required=True, metavar="SLUG")
        parser.add_argument("--network", required=True, metavar="NAME")
        parser.add_argument("--format", required=True, choices=["json", "csv"])
        parser.add_argument("--dry-run", action="store_true", help="Report; change nothing.")
        parser.add_argument(
            "--user", metavar="USERNAME", help="Import as this member (default: the system)."
        )

    def handle(self, *args, **options):
        project = project_with_slug(options["project"])
        actor = user_named(options["user"]) if options["user"] else None
        network = project_network_get(project=project, name=options["network"])
        if network is None:
            raise CommandError(
                f"Project {project.slug!r} studies no network {options['network']!r}."
            )
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        self.stderr.write(f"checking {path} against {project.slug}/{network.name} ...")
        report = taxonomy_import(
            project=project,
            network=network,
            actor=actor,
            format=options["format"],
            content=path.read_bytes(),
            dry_run=options["dry_run"],
        )
        verb = "would change" if report["dry_run"] else "changed"
        if not report["changed"]:
            self.stdout.write("Nothing to change: the project already has this taxonomy.")
            return
        for line in (
            f"groups created: {len(report['groups_created'])}",
            f"groups updated: {len(report['groups_updated'])}",
            f"units assigned: {report['units_assigned']}",
            f"units moved: {report['units_moved']}",
            f"units unassigned: {report['units_unassigned']}",
            f"units unchanged: {report['units_unchanged']}",
            f"hypotheses created: {report['hypotheses_created']}",
        ):
            self.stdout.write(f"  {line}")
        for change in report["unit_changes"][:20] if report["dry_run"] else []:
            self.stdout.write(
                f"  {change['unit']}: {change['from'] or '-'} -> {change['to'] or '-'}"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Dry run: ' if report['dry_run'] else ''}{verb} {project.slug}/{network.name}."
            )
        )
