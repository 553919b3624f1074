"""First-layer weights of MobileNetV2: one pass over the layer against one pass per unit.

Both sides produce the same outputs: each of the 32 units' image encoded as a PNG, and one
sprite sheet of all of them. The candidate computes every unit's image in one call of
``first_layer_weight_images``; the naive baseline calls it once per unit and keeps only that
unit's image, so the whole computation is redone 32 times. Pure engine, no Django.
"""

import argparse
import sys

import measure

from workers.engine.first_layer import first_layer_weight_images
from workers.engine.images import encode_png, sprite_sheet
from workers.engine.networks import bundled_weights_path, load_builtin

ARCH = "mobilenet_v2"
LAYER = "features.0"


def render_layer(network, phases=None):
    """Every unit's PNG and the sprite sheet, from one computation of the layer's images."""
    compute, encode, sheet = [], [], []
    with measure.stopwatch(compute):
        images = first_layer_weight_images(network, LAYER)
    with measure.stopwatch(encode):
        pngs = [encode_png(image.rgb) for image in images]
    with measure.stopwatch(sheet):
        sprite, layout = sprite_sheet([(image.index, image.rgb) for image in images])
    if phases is not None:
        phases["compute"].append(compute[0])
        phases["encode_png"].append(encode[0])
        phases["sprite_sheet"].append(sheet[0])
    return pngs, sprite, layout


def render_unit_by_unit(network, units):
    """The same outputs, computing the whole layer again for each unit."""
    tiles, pngs = [], []
    for index in range(units):
        image = first_layer_weight_images(network, LAYER)[index]
        pngs.append(encode_png(image.rgb))
        tiles.append((image.index, image.rgb))
    sprite, layout = sprite_sheet(tiles)
    return pngs, sprite, layout


def run(repeats):
    measure.log("first layer: loading the network")
    network = load_builtin(ARCH, weights_path=bundled_weights_path(ARCH))
    units = network.layer(LAYER).channels

    expected = render_layer(network)
    same_output = render_unit_by_unit(network, units) == expected

    candidate, baseline = [], []
    phases = {"compute": [], "encode_png": [], "sprite_sheet": []}
    for round_number in range(repeats):
        # Alternate who goes first so that drift on a shared machine hits both sides.
        sides = [
            (candidate, lambda: render_layer(network, phases)),
            (baseline, lambda: render_unit_by_unit(network, units)),
        ]
        for record, render in sides if round_number % 2 == 0 else reversed(sides):
            with measure.stopwatch(record):
                render()

    candidate_ms = measure.milliseconds(candidate)
    baseline_ms = measure.milliseconds(baseline)
    return {
        "name": "first_layer_weights",
        "measured": f"rendering the first-layer weights of {ARCH} ({LAYER}, {units} units): "
        "unit images, one PNG per unit and the sprite sheet",
        "units": "milliseconds per layer render",
        "baseline": {
            "label": "first_layer_weight_images called once per unit, keeping that unit",
            **measure.summary(baseline_ms, digits=3),
        },
        "candidate": {
            "label": "first_layer_weight_images called once for the layer",
            **measure.summary(candidate_ms, digits=3),
            "phases_ms": {
                phase: round(measure.median(measure.milliseconds(samples)), 3)
                for phase, samples in phases.items()
            },
        },
        "ratio": measure.ratio(measure.median(baseline_ms), measure.median(candidate_ms)),
        "ratio_meaning": measure.RATIO_MEANING,
        "same_output": same_output,
        "repeats": repeats,
        "machine": measure.machine_facts(),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="renders of each side (30)")
    parser.add_argument("--quick", action="store_true", help="3 renders each, a smoke test")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else args.repeats
    if repeats < 1:
        parser.error("--repeats must be at least 1")

    result = run(repeats)
    measure.emit(result)
    if not result["same_output"]:
        measure.log("first layer: the two sides rendered different bytes")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
