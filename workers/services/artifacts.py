"""Writing a job's artifacts: files through Django's storage as they are made, rows in batches.

Files are written under names fixed by the job, so a re-run after a crash overwrites them
instead of adding copies. Rows are recorded by ``flush`` once a batch of units is complete (a
cancelled or interrupted job keeps what it finished) and by ``commit`` in the transaction that
marks the job succeeded. Recording a row again replaces the earlier one.
"""

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from workers.models import Artifact
from workers.provenance import code_version


def artifact_folder(job, layer=None):
    """Where a job's artifacts of ``layer`` (default: the job's layer) are stored."""
    layer = layer or job.layer
    return (
        f"artifacts/{job.network.name}/{layer.name}/{job.kind}/{job.params_hash[:16]}/job-{job.pk}"
    )


class ArtifactBatch:
    """The artifacts of one run of a job: stored at once, recorded by ``flush``/``commit``."""

    def __init__(self, job):
        self.job = job
        self.pending = []
        self.recorded = []

    def add(
        self, *, kind, filename, content, content_type, unit=None, variant="", meta=None, layer=None
    ):
        """layer: the artifact's layer when it is not the job's (a job comparing two layers)."""
        same_network = layer is None or layer.network_id == self.job.network_id
        network = self.job.network if same_network else layer.network
        layer = layer or self.job.layer
        name = default_storage.save(
            f"{artifact_folder(self.job, layer)}/{filename}", ContentFile(content)
        )
        self.pending.append(
            Artifact(
                job=self.job,
                network=network,
                layer=layer,
                unit=unit,
                kind=kind,
                variant=variant,
                file=name,
                content_type=content_type,
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                params=self.job.params,
                meta=meta or {},
                code_version=code_version(),
            )
        )

    def _record(self):
        if not self.pending:
            return []
        same = Q()
        for row in self.pending:
            same |= Q(layer=row.layer, unit=row.unit, kind=row.kind, variant=row.variant)
        Artifact.objects.filter(same, job=self.job).delete()
        created = Artifact.objects.bulk_create(self.pending, batch_size=500)
        self.recorded.extend(created)
        self.pending = []
        return created

    def flush(self):
        """Record the rows of a finished batch of units now, in their own transaction."""
        with transaction.atomic():
            return self._record()

    def commit(self):
        """Record the remaining rows (call inside the transaction that finishes the job)."""
        return self._record()

    def discard(self):
        """Remove the files of rows that were not recorded (a failed or cancelled batch)."""
        for row in self.pending:
            default_storage.delete(row.file.name)
        self.pending = []
