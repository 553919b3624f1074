"""The universality job: one pass over a dataset through two layers, then every unit's matches.

Artifacts: per unit of either layer, a JSON of its best matches in the other layer (the other
layer's units get theirs too, unless both sides are one layer); per layer pair, the whole
correlation matrix as ``correlation.npy`` (float32 [rows, columns]; rows are the job's layer,
columns the other layer; 0 where either unit is constant; the meta names both sides and lists
the constant units).
"""

import io
import json
import time

import numpy as np
from django.conf import settings

from workers import runtime
from workers.addresses import UnitAddress
from workers.engine import datasets as engine_datasets
from workers.engine.universality import LayerSide, best_matches, layer_correlation
from workers.models import Artifact, Network
from workers.renderers.dataset_examples import open_dataset

# Matches kept in an artifact's meta, for the unit card to show without opening the file.
CARD_MATCHES = 3


def _side(network, layer):
    return {"network": network.name, "layer": layer.name}


def _matches_json(matches, unit, network, layer):
    return [
        {
            "network": network.name,
            "layer": layer.name,
            "unit": int(other),
            "address": str(UnitAddress(layer.name, int(other))),
            "r": round(float(r), 6),
        }
        for other, r in zip(matches.units[unit], matches.r[unit], strict=True)
        if other >= 0
    ]


def _add_unit_matches(artifacts, *, job, units, layer, other, found, matches, first):
    """One JSON per unit of ``layer`` (``units``: its Unit rows by index) on its matches in
    ``other`` (network, layer); ``first``: ``layer`` is the rows of ``found``."""
    other_network, other_layer = other
    constant = found.constant_first if first else found.constant_second
    means = found.mean_first if first else found.mean_second
    for index, unit in units.items():
        found_matches = _matches_json(matches, index, other_network, other_layer)
        summary = {
            "unit": str(UnitAddress(layer.name, index)),
            "network": layer.network.name,
            "compared_with": {"network": other_network.name, "layer": other_layer.name},
            "dataset": job.params["dataset"],
            "images": found.images,
            "constant": bool(constant[index]),
            "mean": float(means[index]),
            "matches": found_matches,
        }
        artifacts.add(
            unit=unit,
            layer=layer,
            kind=Artifact.Kind.UNIT_JSON,
            filename=f"{layer.network.name}/{layer.name}/unit_{index:05d}.json",
            content=json.dumps(summary).encode(),
            content_type="application/json",
            meta={
                "constant": summary["constant"],
                "compared_with": summary["compared_with"],
                "matches": found_matches[:CARD_MATCHES],
            },
        )


def _npy(matrix):
    buffer = io.BytesIO()
    np.save(buffer, matrix, allow_pickle=False)
    return buffer.getvalue()


def render_universality(job, network, artifacts, report):
    """Correlate the job's layer with the other layer over the dataset; store the matches."""
    started = time.perf_counter()
    params = job.params
    other_network = Network.objects.get(name=params["other_network"] or job.network.name)
    other_layer = other_network.layers.get(name=params["other_layer"] or job.layer.name)
    other_loaded = runtime.network_for(other_network)
    size = max(job.network.input_size, other_network.input_size)
    dataset = open_dataset(params["dataset"], size=size)
    total = len(dataset)

    def batch_done(seen):
        report(seen, total, f"{seen} of {total} images", force=True)

    found = layer_correlation(
        LayerSide(network, job.layer.name),
        LayerSide(other_loaded, other_layer.name),
        engine_datasets.batches(
            dataset, params["batch_size"], workers=settings.ATLAS_DECODE_WORKERS
        ),
        device=runtime.device(),
        progress=batch_done,
    )
    searched = time.perf_counter()
    k = params["k"]
    rows = best_matches(found.correlation, found.constant_first, found.constant_second, k)
    wanted = set(job.unit_indices) if job.unit_indices is not None else None
    own_units = {
        unit.index: unit for unit in job.layer.units.all() if wanted is None or unit.index in wanted
    }
    _add_unit_matches(
        artifacts,
        job=job,
        units=own_units,
        layer=job.layer,
        other=(other_network, other_layer),
        found=found,
        matches=rows,
        first=True,
    )
    if other_layer.pk != job.layer.pk:
        columns = best_matches(found.correlation.T, found.constant_second, found.constant_first, k)
        _add_unit_matches(
            artifacts,
            job=job,
            units={unit.index: unit for unit in other_layer.units.all()},
            layer=other_layer,
            other=(job.network, job.layer),
            found=found,
            matches=columns,
            first=False,
        )
    artifacts.add(
        kind=Artifact.Kind.LAYER_DATA,
        variant="correlation",
        filename="correlation.npy",
        content=_npy(found.correlation.float().numpy()),
        content_type="application/octet-stream",
        meta={
            "rows": _side(job.network, job.layer),
            "columns": _side(other_network, other_layer),
            "images": found.images,
            "dataset": params["dataset"],
            "constant_rows": found.constant_first.nonzero().flatten().tolist(),
            "constant_columns": found.constant_second.nonzero().flatten().tolist(),
        },
    )
    return {
        "correlate_seconds": round(searched - started, 4),
        "write_seconds": round(time.perf_counter() - searched, 4),
        "images_seen": found.images,
        "images_unreadable": len(dataset.unreadable),
    }
