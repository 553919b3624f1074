"""The weights job: each unit's strongest incoming kernels from the previous layer."""

import io
import json
import time

import numpy as np

from workers.addresses import UnitAddress
from workers.engine.images import encode_png
from workers.engine.weight_images import kernel_image, kernel_strip
from workers.engine.weights import unit_weights
from workers.models import Artifact
from workers.renderers.common import add_layer_sprite

KERNEL_DECIMALS = 6


def render_weights(job, network, artifacts, report):
    """Compute the layer's weights (direct or expanded), write a kernel strip and the numbers
    per unit, and the whole norm matrix so that outgoing weights can be looked up."""
    started = time.perf_counter()
    params = job.params
    layer = job.layer
    result = unit_weights(
        network,
        layer.name,
        source_layer=params["source_layer"] or None,
        k=min(
            params["k"], network.layer(params["source_layer"] or _previous(network, layer)).channels
        ),
        units=job.unit_indices,
    )
    computed = time.perf_counter()
    report(0, len(result.units), "writing kernels", force=True)
    unit_rows = {unit.index: unit for unit in layer.units.all()}
    tiles = {}
    pixels = params["pixels_per_weight"]
    for row, unit in enumerate(result.units.tolist()):
        kernels = result.kernels[row]
        strip = kernel_strip(kernels, pixels_per_weight=pixels, columns=params["columns"])
        tiles[unit] = kernel_image(kernels[0], pixels_per_weight=pixels)
        incoming = [
            {
                "unit": str(UnitAddress(result.source_layer, int(source))),
                "norm": float(norm),
                "kernel": np.round(kernel.numpy(), KERNEL_DECIMALS).tolist(),
            }
            for source, norm, kernel in zip(
                result.indices[row], result.norms[row], kernels, strict=True
            )
        ]
        summary = {
            "unit": str(UnitAddress(layer.name, unit)),
            "source_layer": result.source_layer,
            "mode": result.mode,
            "incoming": incoming,
        }
        artifacts.add(
            unit=unit_rows[unit],
            kind=Artifact.Kind.UNIT_IMAGE,
            variant="incoming",
            filename=f"unit_{unit:05d}_incoming.png",
            content=encode_png(strip),
            content_type="image/png",
            meta={"mode": result.mode, "strongest": incoming[0]},
        )
        artifacts.add(
            unit=unit_rows[unit],
            kind=Artifact.Kind.UNIT_JSON,
            filename=f"unit_{unit:05d}.json",
            content=json.dumps(summary).encode(),
            content_type="application/json",
        )
    buffer = io.BytesIO()
    np.save(buffer, result.norm_matrix.numpy().astype(np.float32))
    artifacts.add(
        kind=Artifact.Kind.LAYER_DATA,
        filename="norms.npy",
        content=buffer.getvalue(),
        content_type="application/octet-stream",
        meta={
            "rows": result.units.tolist(),
            "source_layer": result.source_layer,
            "mode": result.mode,
        },
    )
    add_layer_sprite(job, artifacts, tiles)
    return {
        "compute_seconds": round(computed - started, 4),
        "write_seconds": round(time.perf_counter() - computed, 4),
        "mode": result.mode,
    }


def _previous(network, layer):
    return network.layers[layer.order - 1].name
