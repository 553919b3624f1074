"""The dataset-examples job: one pass over a dataset, then each unit's top and bottom crops,
whether it fired, and the distribution of its activation."""

import json
import math
import time

import numpy as np
import torch
from django.conf import settings

from workers.addresses import UnitAddress
from workers.engine import datasets as engine_datasets
from workers.engine.dataset_examples import (
    context_box,
    crop_image,
    dataset_examples,
    distinct_examples,
    field_in_tile,
    outline_field,
    receptive_field_crop,
)
from workers.engine.distributions import (
    ClassMeans,
    Histograms,
    class_means,
    histograms,
    top_classes,
)
from workers.engine.images import encode_png
from workers.engine.spool import MaximaSpool
from workers.jobkinds import layers_of_job
from workers.models import Artifact, Dataset
from workers.renderers.checkpoints import PassCheckpoints, dataset_fingerprint
from workers.renderers.common import add_layer_sprite

DEMO_DATASET = "demo"
UNITS_PER_CHUNK = 64
GAP = 2
# The pass keeps this many candidates per example shown, so that k remain once near-duplicate
# crops (`distinct_examples`) are left out.
CANDIDATES_PER_EXAMPLE = 4
# Unreadable images named in the job's timings (all are counted).
UNREADABLE_SHOWN = 20


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


def _candidates(examples, unit, size, layer):
    """A unit's ranked candidates as (value, dataset index, (y, x), receptive field box)."""
    return [
        (float(value), int(image), (int(y), int(x)), receptive_field_crop(size, layer, (y, x)))
        for value, image, (y, x) in zip(
            examples.values[unit], examples.images[unit], examples.positions[unit], strict=True
        )
        if torch.isfinite(value) and image >= 0
    ]


def _shown(candidates, dataset, k):
    """The candidates to show: up to k, strongest first, near-duplicates left out."""
    fields = [dataset.source_field(image, box) for _, image, _, box in candidates]
    return [candidates[position] for position in distinct_examples(fields, k)]


def _example_json(example, names, size, crop_size):
    """One shown example: its image, value and map position; its receptive field (`box`) and
    the larger region the crop shows around a small field (`crop`), in the dataset image's
    pixels; and where the field lies in the stored crop tile (`field_in_crop`, outlined there
    when smaller than the crop), for a page to draw its own outline."""
    value, image, position, box = example
    crop = context_box(size, box)
    return {
        "image": names[image],
        "value": value,
        "position": list(position),
        "box": list(box),
        "crop": list(crop),
        "field_in_crop": list(field_in_tile(crop, box, crop_size)),
    }


def _crop_tile(image, entry, crop_size):
    """The stored crop: the context region scaled to the tile, the field outlined inside it."""
    tile = crop_image(image, tuple(entry["crop"]), out_size=crop_size)
    if entry["crop"] != entry["box"]:
        outline_field(tile, tuple(entry["field_in_crop"]))
    return _rgb(tile)


def _fired_on(dataset_name, fired, images):
    """Whether and how often a unit fired on the dataset (`engine.dataset_examples.fired_on`):
    the shape the card, the grid and the export show."""
    return {
        "dataset": dataset_name,
        "images": int(fired),
        "of": images,
        "never_fired": int(fired) == 0,
    }


def _distribution(found, unit, dataset, spread, means, shown):
    """A unit's activation distribution: the histogram of its spatial max over the dataset,
    the values of the shown top and bottom examples, and (for a dataset with classes) the
    classes with the highest mean."""
    distribution = {
        "quantity": "spatial maximum of the unit's activation per image",
        "images": found.images,
        "bins": spread.counts.shape[1],
        "low": _finite(spread.low[unit]),
        "high": _finite(spread.high[unit]),
        "counts": spread.counts[unit].tolist(),
        "top": [example[0] for example in shown["top"]],
        "bottom": [example[0] for example in shown["bottom"]],
        "classes": None,
    }
    if means is not None:
        distribution["classes"] = [
            {
                "name": dataset.classes[position],
                "mean": mean,
                "images": int(means.counts[position]),
            }
            for position, mean in top_classes(means, unit)
        ]
    return distribution


def _finite(value):
    """A float for JSON (stored in a JSON column, which takes no NaN): None where not finite."""
    value = float(value)
    return value if math.isfinite(value) else None


def render_dataset_examples(job, network, artifacts, report):
    """Find every unit's examples in one pass over every layer the job covers (its layer, or
    for a job without one those of its ``layers`` parameter), then write each layer's crops
    unit chunk by unit chunk, as a job on that layer alone writes them.

    Each image's maxima go to a spool on local disk, removed when the distributions are made
    or the job ends otherwise: the worker's memory does not grow with the dataset."""
    started = time.perf_counter()
    params = job.params
    size = job.network.input_size
    dataset = open_dataset(params["dataset"], size=size)
    rows = layers_of_job(job)
    layers = [network.layer(row.name) for row in rows]
    with MaximaSpool(sum(layer.channels for layer in layers)) as spool:
        found, resume, checkpoints = _pass(job, network, dataset, layers, spool, report)
        spread, means = _distributions(found, dataset, spool)
    searched = time.perf_counter()
    writing = _Writing(report, sum(len(_units_of(job, layer)) for layer in layers), len(layers) > 1)
    never_fired = 0
    images_seen = 0
    for row, layer in zip(rows, layers, strict=True):
        layer_found = found.pop(layer.name)
        images_seen = layer_found.images
        never_fired += _write_layer(
            job,
            row,
            layer,
            layer_found,
            dataset,
            _layer_distributions(spread, means, layer_found.units),
            artifacts,
            writing,
            multiple=len(layers) > 1,
        )
    timings = {
        "search_seconds": round(searched - started, 4),
        "write_seconds": round(time.perf_counter() - searched, 4),
        "images_seen": images_seen,
        "images_unreadable": len(dataset.unreadable),
        # Which, and why (the first few): a corrupt, truncated or oversized file.
        "unreadable": dict(sorted(dataset.unreadable.items())[:UNREADABLE_SHOWN]),
        "never_fired": never_fired,
    }
    if job.layer is None:
        timings["layers"] = len(layers)
    if resume is not None or checkpoints.saves:
        timings["resumed_at_image"] = 0 if resume is None else resume["images"]
        timings["checkpoints"] = checkpoints.saves
    checkpoints.clear()
    return timings


def _pass(job, network, dataset, layers, spool, report):
    """The dataset-examples pass over ``layers``, from the job's latest checkpoint if it has
    one, checkpointing as it goes: (results by layer, the state resumed from or None, the
    checkpoints)."""
    total = len(dataset)
    batch_size = settings.ATLAS_DATASET_BATCH_SIZE
    checkpoints = PassCheckpoints(job, dataset_fingerprint(dataset, batch_size), spool)
    resume, start = None, 0
    latest = checkpoints.latest()
    if latest is not None:
        resume, extra = latest
        dataset.unreadable.update(extra["unreadable"])
        start = extra["next"]

    def save(state):
        last = state["seen"][-1] if state["seen"] else -1
        following = (last // batch_size + 1) * batch_size
        checkpoints.save(state, {"unreadable": dict(dataset.unreadable), "next": following})

    found = dataset_examples(
        network,
        [layer.name for layer in layers],
        engine_datasets.batches(
            dataset,
            batch_size,
            start=start,
            readable=0 if resume is None else resume["images"],
            workers=settings.ATLAS_DECODE_WORKERS,
        ),
        k=job.params["k"] * CANDIDATES_PER_EXAMPLE,
        progress=lambda seen: report(seen, total, f"{seen} of {total} images"),
        resume=resume,
        checkpoint=save,
        checkpoint_every=settings.ATLAS_CHECKPOINT_IMAGES or None,
        spool=spool,
    )
    return found, resume, checkpoints


def _distributions(found, dataset, spool):
    """Every unit's histogram and, for a dataset with classes, class means, over all the
    pass's layers at once (one read of the spool each, not one per layer)."""
    spread = histograms(spool)
    if dataset.classes is None:
        return spread, None
    seen = next(iter(found.values())).seen
    return spread, class_means(spool, dataset.class_numbers(seen), count=len(dataset.classes))


def _layer_distributions(spread, means, units):
    """The rows of one layer's units (a slice of the pass's units) of both."""
    layer_spread = Histograms(*(field[units] for field in spread))
    if means is None:
        return layer_spread, None
    return layer_spread, ClassMeans(means=means.means[units], counts=means.counts)


def _units_of(job, layer):
    """The units of ``layer`` the job renders: its chosen units, or every unit."""
    if job.layer is not None and job.unit_indices is not None:
        return list(job.unit_indices)
    return list(range(layer.channels))


class _Writing:
    """Progress of the writing phase over every layer of the job: units written of all."""

    def __init__(self, report, total, multiple):
        self.report = report
        self.total = total
        self.multiple = multiple
        self.done = 0

    def __call__(self, layer, units):
        self.done += units
        where = f" of {layer}" if self.multiple else ""
        self.report(self.done, self.total, f"writing crops{where}", force=True)


def _write_layer(job, row, layer, found, dataset, distributions, artifacts, writing, *, multiple):
    """Write one layer's artifacts from its pass results; returns how many units never fired.

    ``row``: the layer's catalog row; ``layer``: the engine's LayerInfo; ``distributions``:
    its units' (histograms, class means or None). Bytes and rows are the same whether the job
    covers this layer alone or several (``multiple``: the artifacts are then recorded under
    this layer, not the job's)."""
    params = job.params
    size = job.network.input_size
    dataset_name = params["dataset"]
    k, crop_size = params["k"], params["crop_size"]
    target = row if multiple else None
    spread, means = distributions
    names = dataset.names
    units = _units_of(job, layer)
    unit_rows = {unit.index: unit for unit in row.units.all()}
    tiles = {}
    fired = {}
    for start in range(0, len(units), UNITS_PER_CHUNK):
        chunk = units[start : start + UNITS_PER_CHUNK]
        shown = {
            unit: {
                variant: _shown(_candidates(examples, unit, size, layer), dataset, k)
                for variant, examples in (("top", found.top), ("bottom", found.bottom))
            }
            for unit in chunk
        }
        needed = sorted(
            {example[1] for unit in chunk for side in shown[unit].values() for example in side}
        )
        loaded_indices, pixels = dataset.load(needed)
        images = {int(i): p.float() / 255 for i, p in zip(loaded_indices, pixels, strict=True)}
        for unit in chunk:
            fired_on = _fired_on(dataset_name, found.stats.fired[unit], found.images)
            fired[unit] = fired_on["images"]
            summary = {
                "unit": str(UnitAddress(layer.name, unit)),
                "dataset": dataset_name,
                "images_seen": found.images,
                "fired_on": fired_on,
                "stats": {
                    "mean": float(found.stats.mean[unit]),
                    "max": float(found.stats.max[unit]),
                    "fraction_active": float(found.stats.fraction_active[unit]),
                },
            }
            # Strongest first: the top examples, then the bottom ones.
            for variant in ("top", "bottom"):
                entries = [
                    _example_json(example, names, size, crop_size)
                    for example in shown[unit][variant]
                ]
                summary[variant] = entries
                crops = [
                    _crop_tile(images[example[1]], entry, crop_size)
                    for entry, example in zip(entries, shown[unit][variant], strict=True)
                    if example[1] in images
                ]
                if not crops:
                    continue
                if variant == "top":
                    tiles[unit] = crops[0]
                artifacts.add(
                    unit=unit_rows[unit],
                    layer=target,
                    kind=Artifact.Kind.UNIT_IMAGE,
                    variant=variant,
                    filename=f"unit_{unit:05d}_{variant}.png",
                    content=encode_png(_strip(crops)),
                    content_type="image/png",
                    meta={"best": entries[0]["value"], "never_fired": fired_on["never_fired"]},
                )
            distribution = _distribution(found, unit, dataset, spread, means, shown[unit])
            artifacts.add(
                unit=unit_rows[unit],
                layer=target,
                kind=Artifact.Kind.UNIT_JSON,
                filename=f"unit_{unit:05d}.json",
                content=json.dumps(summary).encode(),
                content_type="application/json",
                meta={"fired_on": fired_on},
            )
            artifacts.add(
                unit=unit_rows[unit],
                layer=target,
                kind=Artifact.Kind.UNIT_JSON,
                variant="distribution",
                filename=f"unit_{unit:05d}_distribution.json",
                content=json.dumps(distribution).encode(),
                content_type="application/json",
                meta=distribution,
            )
        artifacts.flush()
        writing(layer.name, len(chunk))
    add_layer_sprite(
        job,
        artifacts,
        tiles,
        layer=target,
        index_fields={"fired_on": {"dataset": dataset_name, "of": found.images}},
        unit_fields={unit: {"fired": count} for unit, count in fired.items()},
    )
    return sum(count == 0 for count in fired.values())
