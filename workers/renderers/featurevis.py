"""The feature-visualization job: batched renders, written and recorded batch by batch."""

import json
import time

from django.conf import settings

from workers import runtime
from workers.addresses import UnitAddress
from workers.engine.featurevis.render import render_units
from workers.engine.images import encode_png
from workers.models import Artifact
from workers.renderers.common import add_layer_sprite, recorded_images, thumbnail

# The picture that stands for a unit in the layer's grid, by objective.
SPRITE_VARIANT = {
    "channel": "positive",
    "neuron": "neuron",
    "negative": "negative",
    "diversity": "diversity-0",
}


def _unit_summary(job, index, renders):
    return {
        "unit": str(UnitAddress(job.layer.name, index)),
        "objective": job.params["objective"],
        # "pre_activation" where the layer ends in a capping activation (ReLU, ReLU6):
        # the curve and final activation are then of its pre-activation, floored at its
        # spatial median, as the render optimised it.
        "objective_at": renders[0].objective_at,
        "variants": {
            render.variant: {
                "curve": render.curve,
                "final_activation": {
                    "mean": render.final_activation.mean,
                    "max": render.final_activation.max,
                },
            }
            for render in renders
        },
    }


def render_feature_visualization(job, network, artifacts, report):
    """Render the job's units; each finished batch is recorded before the next starts, so a
    cancelled or crashed job keeps (and a re-run skips) the units already rendered."""
    started = time.perf_counter()
    params = job.params
    sprite_variant = SPRITE_VARIANT[params["objective"]]
    units = job.unit_indices if job.unit_indices is not None else range(job.layer.channels)
    tiles = {
        index: thumbnail(rgb, params["thumbnail"])
        for index, rgb in recorded_images(job, sprite_variant).items()
    }
    todo = [index for index in units if index not in tiles]
    unit_rows = {unit.index: unit for unit in job.layer.units.all()}
    total = len(tiles) + len(todo)

    def on_batch(renders, done, _):
        by_unit = {}
        for render in renders:
            by_unit.setdefault(render.unit, []).append(render)
            unit = unit_rows[render.unit]
            artifacts.add(
                unit=unit,
                kind=Artifact.Kind.UNIT_IMAGE,
                variant=render.variant,
                filename=f"unit_{render.unit:05d}_{render.variant}.png",
                content=encode_png(render.rgb),
                content_type="image/png",
                meta={
                    "final_mean": render.final_activation.mean,
                    "final_max": render.final_activation.max,
                    "objective_at": render.objective_at,
                },
            )
            if render.variant == sprite_variant:
                tiles[render.unit] = thumbnail(render.rgb, params["thumbnail"])
        for index, unit_renders in by_unit.items():
            artifacts.add(
                unit=unit_rows[index],
                kind=Artifact.Kind.UNIT_JSON,
                filename=f"unit_{index:05d}.json",
                content=json.dumps(_unit_summary(job, index, unit_renders)).encode(),
                content_type="application/json",
            )
        artifacts.flush()
        steps = params["steps"]
        report(len(tiles) * steps, total * steps, f"{len(tiles)} of {total} units", force=True)

    def on_step(step, steps, batch_units):
        # Image-steps done: the recorded units' and this batch's so far.
        done = len(tiles) * steps + len(batch_units) * step
        report(
            done,
            total * steps,
            f"{len(tiles)} of {total} units · step {step} of {steps} on {len(batch_units)}",
        )

    render_units(
        network,
        job.layer.name,
        todo,
        objective=params["objective"],
        steps=params["steps"],
        size=params["size"],
        lr=params["lr"],
        param=params["param"],
        decorrelate=params["decorrelate"],
        transforms=params["transforms"],
        diversity=params["diversity"] or 4,
        seed=params["seed"],
        batch_size=settings.ATLAS_RENDER_BATCH_SIZE or None,
        options=runtime.render_options(),
        on_batch=on_batch,
        on_step=on_step,
    )
    rendered = time.perf_counter()
    add_layer_sprite(job, artifacts, tiles)
    return {
        "render_seconds": round(rendered - started, 4),
        "sprite_seconds": round(time.perf_counter() - rendered, 4),
        "units_resumed": total - len(todo),
    }
