"""The connections job: every weight into a layer from an earlier one, stored for circuits.

Circuits join any two units and grow from a unit by its strongest inputs or outputs; the web
process reads these numbers from storage (``workers.selectors.connections``) and never runs
the engine. Two arrays are stored, in ``.npy`` so that one row can be read without the rest:
``kernels`` [units, source units, kh, kw], row i for unit i of the layer and column j for unit
j of the source layer, and ``norms`` [units, source units], the L2 norm of each kernel.
"""

import io
import time

import numpy as np
import torch

from workers.engine.weights import unit_weights
from workers.models import Artifact
from workers.selectors.connections import KERNELS, NORMS


def render_connections(job, network, artifacts, report):
    """Compute the weight of every pair of units of the job's layer and its source layer
    (direct or expanded) and store them."""
    started = time.perf_counter()
    source_layer = network.layer(job.params["source_layer"])
    report(0, 1, f"weights from {source_layer.name}", force=True)
    result = unit_weights(
        network, job.layer.name, source_layer=source_layer.name, k=source_layer.channels
    )
    # unit_weights sorts each row by strength; stored rows keep the source layer's order.
    kernels = torch.empty_like(result.kernels)
    kernels[torch.arange(len(kernels)).unsqueeze(1), result.indices] = result.kernels
    computed = time.perf_counter()
    connections_store(
        artifacts,
        source_layer=result.source_layer,
        mode=result.mode,
        kernels=kernels.numpy(),
        norms=result.norm_matrix.numpy(),
    )
    report(1, 1, "weights stored", force=True)
    return {
        "compute_seconds": round(computed - started, 4),
        "write_seconds": round(time.perf_counter() - computed, 4),
        "mode": result.mode,
    }


def connections_store(artifacts, *, source_layer, mode, kernels, norms):
    """Add the ``kernels`` [U, C, kh, kw] and ``norms`` [U, C] arrays of a layer's
    connections from ``source_layer`` to ``artifacts`` (an ``ArtifactBatch``)."""
    meta = {"source_layer": source_layer, "mode": mode}
    for variant, array in ((KERNELS, kernels), (NORMS, norms)):
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
        artifacts.add(
            kind=Artifact.Kind.LAYER_DATA,
            variant=variant,
            filename=f"{variant}.npy",
            content=buffer.getvalue(),
            content_type="application/octet-stream",
            meta={**meta, "shape": list(array.shape)},
        )
