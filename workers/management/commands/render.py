"""``manage.py render``: run a render job in this process, with the same engine and job rows
as a worker, and a progress bar."""

import json
import os
import socket

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from server.errors import DomainError
from workers.jobkinds import REQUESTABLE_KINDS
from workers.models import Job, Network
from workers.services.job_run import TransientJobError, job_run
from workers.services.jobs import job_request


def parse_units(text):
    """``"0-3,7"`` → ``[0, 1, 2, 3, 7]``."""
    units = []
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise CommandError(f"--units: {part!r} is not an index or a range like 4-9.")
        units.extend(range(int(first), int(last or first) + 1))
    return units


def parse_params(pairs):
    """``["steps=64", "objective=negative"]`` → ``{"steps": 64, "objective": "negative"}``."""
    params = {}
    for pair in pairs:
        key, equals, raw = pair.partition("=")
        if not equals or not key:
            raise CommandError(f"--param: {pair!r} is not key=value.")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


class Command(BaseCommand):
    help = "Render a layer (or some units) of a registered network in this process."

    def add_arguments(self, parser):
        parser.add_argument("--network", required=True)
        parser.add_argument(
            "--layer",
            default=None,
            help="The layer; omit for a dataset_examples job over several layers in one pass "
            "(--param layers=all, the default, or a comma-separated list).",
        )
        parser.add_argument("--kind", required=True, choices=REQUESTABLE_KINDS)
        parser.add_argument("--units", help="Indices and ranges, e.g. 0-15,40 (default: all).")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="A job parameter, e.g. --param steps=256 --param objective=negative.",
        )

    def handle(self, *args, **options):
        network = Network.objects.filter(name=options["network"]).first()
        if network is None:
            raise CommandError(f"No network named {options['network']!r}.")
        units = parse_units(options["units"]) if options["units"] else None
        try:
            job, created = job_request(
                network=network,
                kind=options["kind"],
                layer_name=options["layer"],
                unit_indices=units,
                params=parse_params(options["param"]),
                actor=None,
                enqueue=False,
            )
        except DomainError as error:
            fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in error.fields.items())
            raise CommandError(error.detail + (f" ({fields})" if fields else "")) from error
        if job.status != Job.Status.QUEUED:
            self.stdout.write(f"job {job.pk} is already {job.status}; nothing to render.")
            return
        bar = tqdm(
            total=1,
            desc=f"{options['kind']} {options['layer'] or 'layers'}",
            file=self.stderr,
            disable=None,
        )

        def progress(done, total, message):
            bar.total = total
            bar.update(done - bar.n)

        try:
            status = job_run(
                job_id=job.pk,
                worker=f"cli@{socket.gethostname()}:{os.getpid()}",
                on_progress=progress,
            )
        except TransientJobError as error:
            raise CommandError(
                f"job {job.pk} hit a transient error and was requeued: {error}"
            ) from error
        finally:
            bar.close()
        job.refresh_from_db()
        if status != "succeeded":
            raise CommandError(f"job {job.pk} {job.status}: {job.error or 'not run here'}")
        origin = "new" if created else "queued"
        seconds = job.timings.get("total_seconds", 0)
        self.stdout.write(
            self.style.SUCCESS(
                f"job {job.pk} succeeded: {job.artifacts.count()} artifacts in "
                f"{seconds:.2f} s ({origin} job)"
            )
        )
