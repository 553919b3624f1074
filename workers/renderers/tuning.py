"""The tuning job: synthetic stimuli at each unit's receptive field, then per unit its tuning
curves, preferred parameters, selectivity indices and a plot.

Artifacts, per unit: ``unit_json`` (variant "") with every family's grid of responses, curve,
preferred parameters and selectivity (workers/engine/tuning.py says which index each family
uses); ``unit_image`` "tuning" (PNG) and "tuning-svg" (SVG) of the same figure. Per layer:
``layer_data`` "tuning" (JSON: every unit's preferred parameters and selectivity, the
stimulus grids and placement) and "responses" (``.npz``: per family a float32 array
[units, *grid], the units in the JSON's order, and the blank canvas's ``baseline``).
"""

import io
import json
import time

import numpy as np

from workers.addresses import UnitAddress
from workers.engine.stimuli import FAMILY_NAMES, selected
from workers.engine.tuning import layer_tuning, measurement_site, unit_family_tuning
from workers.formats.tuning_plot import tuning_plot
from workers.models import Artifact

UNITS_PER_CHUNK = 16
DECIMALS = 6


def family_names(text):
    """The families a job's ``families`` parameter names: "all" or a comma-separated list
    (jobkinds checked the names)."""
    return list(FAMILY_NAMES) if text == "all" else text.split(",")


def _rounded(values):
    return np.round(np.asarray(values, dtype=np.float64), DECIMALS).tolist()


def _family_summary(family, responses, baseline):
    found = unit_family_tuning(family, responses, baseline)
    return {
        "axes": {name: list(values) for name, values in family.axes.items()},
        "responses": _rounded(responses.numpy()),
        "preferred": found.preferred,
        "peak": round(found.peak, DECIMALS),
        "curve_axis": found.axis,
        "curve_values": found.curve_values,
        "curve": _rounded(found.curve),
        "pooled": list(family.pooled),
        "index": found.index,
        "selectivity": None if found.selectivity is None else round(found.selectivity, 4),
    }


def _card_meta(summary):
    """What the unit card shows without opening the file: per family the preferred stimulus
    and the selectivity index."""
    return {
        name: {
            "preferred": family["preferred"],
            "index": family["index"],
            "selectivity": family["selectivity"],
        }
        for name, family in summary["families"].items()
    }


def render_tuning(job, network, artifacts, report):
    """Measure every unit of the layer (or the job's units) on the chosen families, then write
    each unit's summary and plot, chunk by chunk."""
    started = time.perf_counter()
    params = job.params
    layer = network.layer(job.layer.name)
    site = measurement_site(layer, network.input_size, scale=params["scale"])
    place = site.placement
    chosen = selected(
        family_names(params["families"]),
        place,
        angle_step=params["angle_step"],
        hue_step=params["hue_step"],
    )
    stimuli = sum(len(family) for family in chosen)
    units = job.unit_indices if job.unit_indices is not None else list(range(layer.channels))
    total = stimuli + len(units)
    report(0, total, f"0 of {stimuli} stimuli", force=True)
    tuning = layer_tuning(
        network,
        layer.name,
        chosen,
        site,
        units=units,
        batch_size=params["batch_size"],
        progress=lambda done: report(done, total, f"{done} of {stimuli} stimuli"),
    )
    measured = time.perf_counter()
    unit_rows = {unit.index: unit for unit in job.layer.units.all()}
    placement_json = {
        "canvas": place.size,
        "centre": [place.centre_y, place.centre_x],
        "diameter": place.diameter,
        "receptive_field": layer.receptive_field,
        "stride": layer.stride,
        "scale": params["scale"],
        "position": list(site.position),
    }
    layer_units = {}
    for start in range(0, len(units), UNITS_PER_CHUNK):
        chunk = units[start : start + UNITS_PER_CHUNK]
        for unit in chunk:
            row = tuning.units.index(unit)
            baseline = float(tuning.baseline[row])
            summary = {
                "unit": str(UnitAddress(layer.name, unit)),
                "network": job.network.name,
                "placement": placement_json,
                # "pre-activation" where the layer's output is capped (the engine's note).
                "activation": tuning.activation,
                "baseline": round(baseline, DECIMALS),
                "families": {
                    family.name: _family_summary(
                        family, tuning.responses[family.name][row], baseline
                    )
                    for family in chosen
                },
            }
            meta = _card_meta(summary)
            layer_units[str(unit)] = meta
            png, svg = tuning_plot(summary)
            artifacts.add(
                unit=unit_rows[unit],
                kind=Artifact.Kind.UNIT_JSON,
                filename=f"unit_{unit:05d}.json",
                content=json.dumps(summary).encode(),
                content_type="application/json",
                meta=meta,
            )
            for variant, content, content_type, suffix in (
                ("tuning", png, "image/png", "png"),
                ("tuning-svg", svg, "image/svg+xml", "svg"),
            ):
                artifacts.add(
                    unit=unit_rows[unit],
                    kind=Artifact.Kind.UNIT_IMAGE,
                    variant=variant,
                    filename=f"unit_{unit:05d}_tuning.{suffix}",
                    content=content,
                    content_type=content_type,
                )
        artifacts.flush()
        done = start + len(chunk)
        report(stimuli + done, total, f"{done} of {len(units)} plots", force=True)
    layer_summary = {
        "layer": layer.name,
        "network": job.network.name,
        "placement": placement_json,
        "activation": tuning.activation,
        "stimuli": stimuli,
        "axes": {
            family.name: {name: list(values) for name, values in family.axes.items()}
            for family in chosen
        },
        "units": layer_units,
    }
    artifacts.add(
        kind=Artifact.Kind.LAYER_DATA,
        variant="tuning",
        filename="tuning.json",
        content=json.dumps(layer_summary).encode(),
        content_type="application/json",
        meta={"stimuli": stimuli, "families": [family.name for family in chosen]},
    )
    buffer = io.BytesIO()
    np.savez(
        buffer,
        baseline=tuning.baseline.numpy(),
        units=np.asarray(tuning.units, dtype=np.int64),
        **{name: array.numpy() for name, array in tuning.responses.items()},
    )
    artifacts.add(
        kind=Artifact.Kind.LAYER_DATA,
        variant="responses",
        filename="responses.npz",
        content=buffer.getvalue(),
        content_type="application/octet-stream",
        meta={"units": len(tuning.units), "families": [family.name for family in chosen]},
    )
    return {
        "measure_seconds": round(measured - started, 4),
        "plot_seconds": round(time.perf_counter() - measured, 4),
        "stimuli": stimuli,
    }
