"""Writing a job's artifacts: files through Django's storage as they are made, rows all at once.

Files are written under names fixed by the job, so a re-run after a crash overwrites them
instead of adding copies. Rows are written in the same transaction that marks the job
succeeded: a job's artifacts appear together, and never for a job that did not finish.
"""

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from workers.models import Artifact
from workers.provenance import code_version


def artifact_folder(job):
    return (
        f"artifacts/{job.network.name}/{job.layer.name}/{job.kind}/"
        f"{job.params_hash[:16]}/job-{job.pk}"
    )


class ArtifactBatch:
    """The artifacts of one run of a job: stored at once, recorded by ``commit``."""

    def __init__(self, job):
        self.job = job
        self.rows = []

    def add(self, *, kind, filename, content, content_type, unit=None):
        name = default_storage.save(f"{artifact_folder(self.job)}/{filename}", ContentFile(content))
        self.rows.append(
            Artifact(
                job=self.job,
                network=self.job.network,
                layer=self.job.layer,
                unit=unit,
                kind=kind,
                file=name,
                content_type=content_type,
                size_bytes=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                params=self.job.params,
                code_version=code_version(),
            )
        )

    def commit(self):
        """Record the rows, replacing any an earlier run of the same job left (call inside the
        transaction that finishes the job)."""
        Artifact.objects.filter(job=self.job).delete()
        return Artifact.objects.bulk_create(self.rows, batch_size=1000)

    def discard(self):
        """Remove the files of a run that will not be recorded."""
        for row in self.rows:
            default_storage.delete(row.file.name)
        self.rows = []
