"""Dataset examples of MobileNetV2: the all-layer top-k pass against a bare forward pass.

Both sides run the real ImageNet MobileNetV2 over the same in-memory batches of the demo
dataset (224 px, batch 32) in inference mode, as deep as the deepest studied layer. The
candidate is ``dataset_examples`` over all 52 studied layers (k = 10): hooks, per-map
reductions, running top-k and bottom-k, statistics. The baseline is the bare module forward,
no hooks, its output dropped. Images are decoded once, before either side runs; decoding is
timed on its own, and so is one pass reading the images from disk with and without
prefetching. Pure engine, no Django.
"""

import argparse
import os
import sys

import measure
import torch

from workers.engine.dataset_examples import dataset_examples
from workers.engine.datasets import batches, demo_dataset
from workers.engine.networks import bundled_weights_path, load_builtin

ARCH = "mobilenet_v2"
SIZE = 224
BATCH = 32
K = 10
QUICK_BATCHES = 2


def bare_forward(network, loaded):
    """The network's forward over every batch, nothing kept."""
    with torch.inference_mode():
        for _, images in loaded:
            network.module(network.preprocess(images))


def top_k_pass(network, layer_names, loaded):
    return dataset_examples(network, layer_names, loaded, k=K)


def outputs_agree(network, layer_names, loaded):
    """Whether the pass's per-unit maximum of the last layer (the module's output) equals the
    maximum over the bare forward's outputs: both sides computed the same maps."""
    examples = top_k_pass(network, layer_names, loaded)[layer_names[-1]]
    with torch.inference_mode():
        outputs = [network.module(network.preprocess(images)) for _, images in loaded]
    return torch.equal(examples.stats.max, torch.cat(outputs).amax(dim=(0, 2, 3)))


def decode_all(dataset, images, *, prefetch=False):
    """The first `images` of the dataset decoded into memory as the pass's batches."""
    loaded = []
    for indices, pixels in batches(dataset, BATCH, prefetch=prefetch):
        loaded.append((indices, pixels))
        if sum(len(indices) for indices, _ in loaded) >= images:
            break
    return loaded


def per_second(count, samples):
    return round(count / measure.median(samples), 2)


def run(repeats, images, from_disk):
    measure.log("dataset examples: loading the network and the demo dataset")
    network = load_builtin(ARCH, weights_path=bundled_weights_path(ARCH))
    layer_names = [layer.name for layer in network.layers]
    dataset = demo_dataset(size=SIZE)
    images = min(images, len(dataset))

    decode = []
    for _ in range(repeats):
        with measure.stopwatch(decode):
            loaded = decode_all(dataset, images)
    count = sum(len(indices) for indices, _ in loaded)
    agree = outputs_agree(network, layer_names, loaded)

    load_before = os.getloadavg()
    candidate, baseline = [], []
    for round_number in range(repeats):
        measure.log(f"dataset examples: round {round_number + 1} of {repeats}")
        # Alternate who goes first so that drift on a shared machine hits both sides.
        sides = [
            (candidate, lambda: top_k_pass(network, layer_names, loaded)),
            (baseline, lambda: bare_forward(network, loaded)),
        ]
        for record, side in sides if round_number % 2 == 0 else reversed(sides):
            with measure.stopwatch(record):
                side()

    result = {
        "name": "dataset_examples",
        "measured": f"one dataset-examples pass over {count} demo images at {SIZE} px, batch "
        f"{BATCH}, all {len(layer_names)} studied layers of {ARCH} "
        f"({sum(layer.channels for layer in network.layers)} units), k={K}",
        "units": "seconds per pass; throughput in images per second",
        "baseline": {
            "label": "bare forward of the module over the same in-memory batches, no hooks",
            **measure.summary(baseline, digits=3),
            "images_per_second": per_second(count, baseline),
        },
        "candidate": {
            "label": "dataset_examples over the same in-memory batches",
            **measure.summary(candidate, digits=3),
            "images_per_second": per_second(count, candidate),
        },
        "ratio": measure.ratio(measure.median(baseline), measure.median(candidate)),
        "ratio_meaning": measure.RATIO_MEANING + " (candidate / baseline throughput)",
        "target_ratio": 0.9,
        # Each round's two sides ran back to back, so their ratio shares the round's load.
        "round_ratios": [
            measure.ratio(base, cand) for base, cand in zip(baseline, candidate, strict=True)
        ],
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "decode": {
            "label": "decoding the same images from the package files, no prefetch",
            **measure.summary(decode, digits=3),
            "images_per_second": per_second(count, decode),
        },
        "outputs_agree": agree,
        "images": count,
        "repeats": repeats,
        "machine": measure.machine_facts(),
    }
    if from_disk:
        result["from_disk"] = passes_from_disk(network, layer_names, dataset)
    return result


def passes_from_disk(network, layer_names, dataset):
    """One pass over the whole dataset decoding as it goes, with and without prefetching."""
    seconds = {}
    for prefetch in (True, False):
        measure.log(f"dataset examples: one pass from disk, prefetch={prefetch}")
        record = []
        with measure.stopwatch(record):
            top_k_pass(network, layer_names, batches(dataset, BATCH, prefetch=prefetch))
        seconds["prefetch" if prefetch else "no_prefetch"] = round(record[0], 3)
    return {
        "label": f"one dataset_examples pass over all {len(dataset)} images, decoding as it "
        "goes (1 sample each)",
        **seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="passes of each side (5)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_BATCHES} batches, 2 passes each, no from-disk pass: a smoke test",
    )
    parser.add_argument("--threads", type=int, help="torch intra-op threads (torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = 2 if args.quick else args.repeats
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    images = QUICK_BATCHES * BATCH if args.quick else sys.maxsize

    result = run(repeats, images, from_disk=not args.quick)
    measure.emit(result)
    if not result["outputs_agree"]:
        measure.log("dataset examples: the pass and the bare forward computed different maps")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
