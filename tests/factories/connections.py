"""Weights between two layers as a connections job leaves them, without running the engine."""

import numpy as np

from tests.factories.workers import JobFactory
from workers.models import Job
from workers.renderers.connections import connections_store
from workers.services.artifacts import ArtifactBatch


def connections_stored(layer, source_layer, kernels, mode="direct"):
    """A succeeded connections job for ``layer`` from ``source_layer`` and its arrays: the
    ``kernels`` [units, source units, kh, kw] given and their L2 norms."""
    job = JobFactory(
        kind=Job.Kind.CONNECTIONS,
        layer=layer,
        params={"source_layer": source_layer.name},
        status=Job.Status.SUCCEEDED,
    )
    kernels = np.asarray(kernels, dtype=np.float32)
    batch = ArtifactBatch(job)
    connections_store(
        batch,
        source_layer=source_layer.name,
        mode=mode,
        kernels=kernels,
        norms=np.linalg.norm(kernels.reshape(*kernels.shape[:2], -1), axis=2),
    )
    batch.commit()
    return job
