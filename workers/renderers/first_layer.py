"""The first-layer weights job: one PNG and one JSON per unit, a sprite sheet and its index."""

import json
import time

from workers.addresses import UnitAddress
from workers.engine.first_layer import first_layer_weight_images
from workers.engine.images import encode_png
from workers.models import Artifact
from workers.renderers.common import add_layer_sprite


def render_first_layer_weights(job, network, artifacts, report):
    """Render the kernels of ``job.layer`` into ``artifacts``; returns phase timings."""
    started = time.perf_counter()
    images = first_layer_weight_images(
        network,
        job.layer.name,
        pixels_per_weight=job.params["pixels_per_weight"],
        normalize=job.params["normalize"],
    )
    computed = time.perf_counter()
    wanted = set(job.unit_indices) if job.unit_indices is not None else None
    images = [image for image in images if wanted is None or image.index in wanted]
    units = {unit.index: unit for unit in job.layer.units.all()}
    total = len(images)
    for done, image in enumerate(images):
        unit = units[image.index]
        stem = f"unit_{image.index:05d}"
        artifacts.add(
            unit=unit,
            kind=Artifact.Kind.UNIT_IMAGE,
            filename=f"{stem}.png",
            content=encode_png(image.rgb),
            content_type="image/png",
        )
        summary = {"unit": str(UnitAddress(job.layer.name, image.index)), **image.stats}
        artifacts.add(
            unit=unit,
            kind=Artifact.Kind.UNIT_JSON,
            filename=f"{stem}.json",
            content=json.dumps(summary, sort_keys=True).encode(),
            content_type="application/json",
        )
        report(done + 1, total, f"unit {done + 1} of {total}")
    add_layer_sprite(job, artifacts, {image.index: image.rgb for image in images})
    finished = time.perf_counter()
    return {
        "compute_seconds": round(computed - started, 4),
        "write_seconds": round(finished - computed, 4),
    }
