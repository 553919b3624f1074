"""The dataset-examples job: one pass over a dataset, then each unit's top and bottom crops."""

import json
import time

import numpy as np
import torch
from django.conf import settings

from workers.addresses import UnitAddress
from workers.engine import datasets as engine_datasets
from workers.engine.dataset_examples import crop_image, dataset_examples, receptive_field_crop
from workers.engine.images import encode_png
from workers.models import Artifact, Dataset
from workers.renderers.common import add_layer_sprite

DEMO_DATASET = "demo"
UNITS_PER_CHUNK = 64
GAP = 2


def open_dataset(name, *, size):
    """The engine dataset called ``name``: the bundled demo set or a registered folder."""
    if name == DEMO_DATASET:
        return engine_datasets.demo_dataset(size=size)
    return engine_datasets.folder_dataset(Dataset.objects.get(name=name).path, size=size)


def _rgb(image):
    return (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def _strip(crops):
    """Crops side by side with a white gap, as the articles lay out dataset examples."""
    height = crops[0].shape[0]
    gap = np.full((height, GAP, 3), 255, np.uint8)
    parts = [part for crop in crops for part in (crop, gap)][:-1]
    return np.concatenate(parts, axis=1)


def _examples_json(examples, unit, names, layer, size):
    return [
        {
            "image": names[int(image)],
            "value": float(value),
            "position": [int(y), int(x)],
            "box": list(receptive_field_crop(size, layer, (int(y), int(x)))),
        }
        for value, image, (y, x) in zip(
            examples.values[unit], examples.images[unit], examples.positions[unit], strict=True
        )
        if torch.isfinite(value)
    ]


def render_dataset_examples(job, network, artifacts, report):
    """Find every unit's examples in one pass, then write crops unit chunk by unit chunk."""
    started = time.perf_counter()
    params = job.params
    size = job.network.input_size
    dataset = open_dataset(params["dataset"], size=size)
    layer = network.layer(job.layer.name)
    total = len(dataset)
    found = dataset_examples(
        network,
        [layer.name],
        engine_datasets.batches(dataset, settings.ATLAS_DATASET_BATCH_SIZE),
        k=params["k"],
        progress=lambda seen: report(seen, total, f"{seen} of {total} images"),
    )[layer.name]
    searched = time.perf_counter()
    names = dataset.names
    units = job.unit_indices if job.unit_indices is not None else range(layer.channels)
    unit_rows = {unit.index: unit for unit in job.layer.units.all()}
    tiles = {}
    for start in range(0, len(units), UNITS_PER_CHUNK):
        chunk = list(units)[start : start + UNITS_PER_CHUNK]
        needed = sorted(
            {
                int(i)
                for unit in chunk
                for side in (found.top, found.bottom)
                for i in side.images[unit]
                if i >= 0
            }
        )
        loaded_indices, pixels = dataset.load(needed)
        images = {int(i): p.float() / 255 for i, p in zip(loaded_indices, pixels, strict=True)}
        for unit in chunk:
            summary = {
                "unit": str(UnitAddress(layer.name, unit)),
                "dataset": params["dataset"],
                "images_seen": found.images,
                "stats": {
                    "mean": float(found.stats.mean[unit]),
                    "max": float(found.stats.max[unit]),
                    "fraction_active": float(found.stats.fraction_active[unit]),
                },
            }
            for variant, examples in (("top", found.top), ("bottom", found.bottom)):
                entries = _examples_json(examples, unit, names, layer, size)
                summary[variant] = entries
                crops = [
                    _rgb(
                        crop_image(
                            images[int(image)], tuple(entry["box"]), out_size=params["crop_size"]
                        )
                    )
                    for entry, image in zip(entries, examples.images[unit], strict=False)
                    if int(image) in images
                ]
                if not crops:
                    continue
                if variant == "top":
                    tiles[unit] = crops[0]
                artifacts.add(
                    unit=unit_rows[unit],
                    kind=Artifact.Kind.UNIT_IMAGE,
                    variant=variant,
                    filename=f"unit_{unit:05d}_{variant}.png",
                    content=encode_png(_strip(crops)),
                    content_type="image/png",
                    meta={"best": entries[0]["value"]},
                )
            artifacts.add(
                unit=unit_rows[unit],
                kind=Artifact.Kind.UNIT_JSON,
                filename=f"unit_{unit:05d}.json",
                content=json.dumps(summary).encode(),
                content_type="application/json",
            )
        artifacts.flush()
        report(min(start + len(chunk), len(units)), len(units), "writing crops", force=True)
    add_layer_sprite(job, artifacts, tiles)
    return {
        "search_seconds": round(searched - started, 4),
        "write_seconds": round(time.perf_counter() - searched, 4),
        "images_seen": found.images,
        "images_unreadable": len(dataset.unreadable),
    }
