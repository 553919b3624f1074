"""What the browser tests look at: layers rendered the way a worker writes them, and the
screenshots the tests leave under var/screenshots/ for people to look at."""

import io
import json
from pathlib import Path

import numpy as np
from django.conf import settings

from tests.factories.workers import JobFactory
from workers.engine.images import encode_png
from workers.models import Artifact, Job
from workers.renderers.common import add_layer_sprite
from workers.services.artifacts import ArtifactBatch

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


def pattern_tile(index, size=64):
    """A stand-in for a feature visualization: an oriented, colored grating per unit."""
    rng = np.random.default_rng(index)
    y, x = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, np.pi)
    frequency = rng.uniform(2, 9)
    phase = rng.uniform(0, 6)
    wave = np.sin(2 * np.pi * frequency * (x * np.cos(angle) + y * np.sin(angle)) + phase)
    blob = np.exp(-(((x - rng.uniform(0.2, 0.8)) ** 2) + (y - rng.uniform(0.2, 0.8)) ** 2) * 6)
    base, other = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    mix = ((wave * blob + 1) / 2)[..., None]
    return (base * mix + other * (1 - mix)).clip(0, 255).astype(np.uint8)


def rendered_layer(layer, *, size=64):
    """A succeeded feature-visualization job of ``layer`` with its sprite sheet and index,
    written by the same code a worker uses."""
    job = JobFactory(
        layer=layer,
        kind=Job.Kind.FEATURE_VISUALIZATION,
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        params={"objective": "channel", "steps": 64, "thumbnail": size},
    )
    batch = ArtifactBatch(job)
    tiles = {index: pattern_tile(index, size) for index in range(layer.channels)}
    add_layer_sprite(job, batch, tiles)
    batch.commit()
    return job


def rendered_units(layer, indices, *, size=128):
    """A feature-visualization job with positive and negative images and a summary per unit."""
    job = JobFactory(
        layer=layer,
        kind=Job.Kind.FEATURE_VISUALIZATION,
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        params={"objective": "channel", "steps": 64, "thumbnail": 64},
    )
    batch = ArtifactBatch(job)
    for unit in layer.units.filter(index__in=indices):
        for variant, seed in (("positive", unit.index), ("negative", 10_000 + unit.index)):
            batch.add(
                unit=unit,
                kind=Artifact.Kind.UNIT_IMAGE,
                variant=variant,
                filename=f"unit_{unit.index:05d}_{variant}.png",
                content=encode_png(pattern_tile(seed, size)),
                content_type="image/png",
            )
        summary = {
            "unit": f"{layer.name}:{unit.index}",
            "objective": "channel",
            "variants": {
                variant: {"curve": [], "final_activation": {"mean": mean, "max": mean * 3}}
                for variant, mean in (("positive", 4.25), ("negative", -1.5))
            },
        }
        batch.add(
            unit=unit,
            kind=Artifact.Kind.UNIT_JSON,
            filename=f"unit_{unit.index:05d}.json",
            content=json.dumps(summary).encode(),
            content_type="application/json",
        )
    batch.commit()
    return job


def weighed_unit(layer, index, incoming):
    """A weights job for one unit of ``layer``: ``incoming`` is [(address, norm)]."""
    job = JobFactory(
        layer=layer,
        kind=Job.Kind.WEIGHTS,
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        params={"k": len(incoming), "source_layer": ""},
    )
    batch = ArtifactBatch(job)
    summary = {
        "unit": f"{layer.name}:{index}",
        "source_layer": incoming[0][0].split(":")[0],
        "mode": "direct",
        "incoming": [{"unit": unit, "norm": norm, "kernel": []} for unit, norm in incoming],
    }
    batch.add(
        unit=layer.units.get(index=index),
        kind=Artifact.Kind.UNIT_JSON,
        filename=f"unit_{index:05d}.json",
        content=json.dumps(summary).encode(),
        content_type="application/json",
    )
    batch.commit()
    return job


def weights_matrix(layer, norms, *, source_layer):
    """A weights job of ``layer`` with only its norm matrix (rows: ``layer``'s units, columns:
    ``source_layer``'s), as the worker writes it for outgoing lookups."""
    job = JobFactory(
        layer=layer,
        kind=Job.Kind.WEIGHTS,
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        params={"k": 3, "source_layer": ""},
    )
    batch = ArtifactBatch(job)
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(norms, dtype=np.float32))
    batch.add(
        kind=Artifact.Kind.LAYER_DATA,
        filename="norms.npy",
        content=buffer.getvalue(),
        content_type="application/octet-stream",
        meta={"rows": list(range(len(norms))), "source_layer": source_layer, "mode": "direct"},
    )
    batch.commit()
    return job
