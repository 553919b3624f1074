"""Dataset examples of MobileNetV2: the all-layer top-k pass against a bare forward pass.

Both sides run the real ImageNet MobileNetV2 over the same in-memory batches of the demo
dataset (224 px, batch 32) in inference mode, as deep as the deepest studied layer. The
candidate is ``dataset_examples`` over all 52 studied layers (k = 10): hooks, per-map
reductions, running top-k and bottom-k, statistics. The baseline is the bare module forward,
no hooks, its output dropped. Images are decoded once, before either side runs; decoding is
timed on its own, and so is one pass reading the images from disk with and without
prefetching. Pure engine, no Django. CPU by default; --device cuda runs both sides on a GPU
(the pass then takes its PyTorch path: the numba kernels are CPU-only).
"""

import argparse
import os
import resource
import sys
import time
from functools import partial

import measure
import torch

from workers.engine import dataset_examples as dataset_examples_module
from workers.engine.allocator import keep_freed_memory
from workers.engine.dataset_examples import dataset_examples
from workers.engine.datasets import ImageDataset, batches, demo_dataset, folder_dataset
from workers.engine.distributions import class_means, histograms
from workers.engine.map_statistics import fused_available, map_statistics
from workers.engine.networks import bundled_weights_path, load_builtin
from workers.engine.ranking import Ranked, empty_ranked, merge_ranked
from workers.engine.spool import MaximaSpool

ARCH = "mobilenet_v2"
SIZE = 224
BATCH = 32
K = 10
QUICK_BATCHES = 2


def synchronize(device):
    """Wait for the GPU's queued work, so that a timed block includes it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_forward(network, loaded):
    """The network's forward over every batch, nothing kept."""
    with torch.inference_mode():
        for _, images in loaded:
            network.module(network.preprocess(images))
    synchronize(network.device)


def top_k_pass(network, layer_names, loaded):
    return dataset_examples(network, layer_names, loaded, k=K)


def outputs_agree(network, layer_names, loaded):
    """Whether the pass's per-unit maximum of the last layer (the module's output) equals the
    maximum over the bare forward's outputs: both sides computed the same maps."""
    examples = top_k_pass(network, layer_names, loaded)[layer_names[-1]]
    with torch.inference_mode():
        outputs = [network.module(network.preprocess(images)) for _, images in loaded]
    return torch.equal(examples.stats.max, torch.cat(outputs).amax(dim=(0, 2, 3)).cpu())


def decode_all(dataset, images, batch, *, prefetch=False):
    """The first `images` of the dataset decoded into memory as the pass's batches."""
    loaded = []
    for indices, pixels in batches(dataset, batch, prefetch=prefetch):
        loaded.append((indices, pixels))
        if sum(len(indices) for indices, _ in loaded) >= images:
            break
    return loaded


def kernels_first_call():
    """Seconds the first call of each numba kernel takes: compiling it, or loading it from
    numba's cache when an earlier run left it there. Done before any timing."""
    started = time.perf_counter()
    statistics = map_statistics(torch.zeros(1, 2, 3, 3))
    batch = Ranked(statistics.maximum, torch.zeros(2, 1, dtype=torch.long), statistics.argmax)
    merge_ranked(empty_ranked(2, torch.device("cpu")), batch, 1, descending=True)
    return round(time.perf_counter() - started, 3)


def use_pytorch_only():
    """Make the pass use PyTorch reductions and the sort merge, as on a GPU."""
    dataset_examples_module.map_statistics = partial(map_statistics, fused=False)
    dataset_examples_module.merge_ranked = partial(merge_ranked, fused=False)
    dataset_examples_module.clamped_statistics = lambda *args, **kwargs: None


class _CpuStopwatch:
    """Wall and process CPU seconds of a block (CPU time: all threads, user and system)."""

    def __init__(self, wall, cpu):
        self.wall, self.cpu = wall, cpu

    def __enter__(self):
        self.started = (time.perf_counter(), time.process_time())

    def __exit__(self, *exc):
        self.wall.append(time.perf_counter() - self.started[0])
        self.cpu.append(time.process_time() - self.started[1])


def per_second(count, samples):
    return round(count / measure.median(samples), 2)


def device_facts(device):
    if device.type != "cuda":
        return {"type": "cpu"}
    return {"type": "cuda", "name": torch.cuda.get_device_name(device), "cuda": torch.version.cuda}


def run(repeats, images, from_disk, kernels, device, batch=BATCH):
    measure.log("dataset examples: loading the network and the demo dataset")
    on_cpu = device.type == "cpu"
    # dataset_examples does this on CPU anyway (in the agreement check, before any timing);
    # done first, so that both sides run with it throughout.
    kept = on_cpu and keep_freed_memory()
    first_call = kernels_first_call() if kernels == "auto" and on_cpu else None
    if kernels == "pytorch":
        use_pytorch_only()
    network = load_builtin(ARCH, weights_path=bundled_weights_path(ARCH)).to(device)
    layer_names = [layer.name for layer in network.layers]
    dataset = demo_dataset(size=SIZE)
    images = min(images, len(dataset))

    decode = []
    for _ in range(repeats):
        with measure.stopwatch(decode):
            loaded = decode_all(dataset, images, batch)
    # Both sides read the batches where they run.
    loaded = [(indices, pixels.to(device)) for indices, pixels in loaded]
    count = sum(len(indices) for indices, _ in loaded)
    agree = outputs_agree(network, layer_names, loaded)

    load_before = os.getloadavg()
    candidate, baseline, candidate_cpu, baseline_cpu = [], [], [], []
    for round_number in range(repeats):
        measure.log(f"dataset examples: round {round_number + 1} of {repeats}")
        # Alternate who goes first so that drift on a shared machine hits both sides.
        sides = [
            (candidate, candidate_cpu, lambda: top_k_pass(network, layer_names, loaded)),
            (baseline, baseline_cpu, lambda: bare_forward(network, loaded)),
        ]
        for wall, cpu, side in sides if round_number % 2 == 0 else reversed(sides):
            with _CpuStopwatch(wall, cpu):
                side()

    result = {
        "name": "dataset_examples",
        "measured": f"one dataset-examples pass over {count} demo images at {SIZE} px, batch "
        f"{batch}, all {len(layer_names)} studied layers of {ARCH} "
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
        # Process CPU seconds (all threads, user + system): time spent waiting for a core
        # that other processes hold is not in them, so they drift less with the load.
        "cpu_seconds": {
            "baseline": measure.summary(baseline_cpu, digits=3),
            "candidate": measure.summary(candidate_cpu, digits=3),
            "ratio": measure.ratio(measure.median(baseline_cpu), measure.median(candidate_cpu)),
        },
        "kernels": kernels,
        "kernels_used": on_cpu and kernels == "auto" and fused_available(torch.zeros(1, 1, 1, 1)),
        "kernels_first_call_seconds": first_call,
        "threads": torch.get_num_threads(),
        "allocator": "glibc malloc keeps freed memory, both sides" if kept else "default malloc",
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "decode": {
            "label": "decoding the same images from the package files, no prefetch",
            **measure.summary(decode, digits=3),
            "images_per_second": per_second(count, decode),
        },
        "outputs_agree": agree,
        "images": count,
        "repeats": repeats,
        "device": device_facts(device),
        "machine": measure.machine_facts(),
    }
    if from_disk:
        result["from_disk"] = passes_from_disk(network, layer_names, dataset, batch)
    return result


def passes_from_disk(network, layer_names, dataset, batch):
    """One pass over the whole dataset decoding as it goes, with and without prefetching."""
    seconds = {}
    for prefetch in (True, False):
        measure.log(f"dataset examples: one pass from disk, prefetch={prefetch}")
        record = []
        with measure.stopwatch(record):
            top_k_pass(network, layer_names, batches(dataset, batch, prefetch=prefetch))
        seconds["prefetch" if prefetch else "no_prefetch"] = round(record[0], 3)
    return {
        "label": f"one dataset_examples pass over all {len(dataset)} images, decoding as it "
        "goes (1 sample each)",
        **seconds,
    }


def run_folder(folder, images, batch, decode_workers, forward_batches, repeats, pass_workers):
    """On a folder of JPEGs (bench/make_dataset.py): decoding alone with each number of
    processes, the bare forward over in-memory batches, and one full pass (all layers) from
    disk decoding in `pass_workers` processes; images per second each, and the pass against
    min(best decode, bare forward). Peak RSS of this process and of its decode processes."""
    measure.log(f"dataset examples: folder {folder}, {images} images")
    keep_freed_memory()
    kernels_first_call()
    network = load_builtin(ARCH, weights_path=bundled_weights_path(ARCH))
    layer_names = [layer.name for layer in network.layers]
    whole = folder_dataset(folder, size=SIZE)
    dataset = ImageDataset(whole.images[:images], size=SIZE)
    count = len(dataset)
    load_before = os.getloadavg()
    decode = {}
    for workers in decode_workers:
        measure.log(f"dataset examples: decoding alone, {workers} processes")
        record = []
        with measure.stopwatch(record):
            for _ in batches(dataset, batch, workers=workers):
                pass
        decode[str(workers)] = per_second(count, record)
    measure.log("dataset examples: bare forward over in-memory batches")
    loaded = decode_all(dataset, forward_batches * batch, batch)
    in_memory = sum(len(indices) for indices, _ in loaded)
    forward = []
    for _ in range(repeats):
        with measure.stopwatch(forward):
            bare_forward(network, loaded)
    del loaded
    measure.log(f"dataset examples: the full pass from disk, {pass_workers} decode processes")
    full = []
    with measure.stopwatch(full):
        top_k_pass(network, layer_names, batches(dataset, batch, workers=pass_workers))
    forward_rate = per_second(in_memory, forward)
    pass_rate = per_second(count, full)
    ceiling = min(max(decode.values()), forward_rate) if decode else forward_rate
    return {
        "name": "dataset_examples_folder",
        "measured": f"{count} JPEGs of {folder} at {SIZE} px, batch {batch}, all "
        f"{len(layer_names)} studied layers of {ARCH}, k={K}",
        "decode_images_per_second": decode,
        "bare_forward_images_per_second": forward_rate,
        "bare_forward_images": in_memory,
        "full_pass_images_per_second": pass_rate,
        "full_pass_seconds": round(full[0], 3),
        "full_pass_decode_processes": pass_workers,
        "ceiling": ceiling,
        "ratio_to_ceiling": round(pass_rate / ceiling, 3),
        "target_ratio": 0.8,
        "peak_rss_mb": {
            "self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "largest_child": round(
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
            ),
        },
        "threads": torch.get_num_threads(),
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "machine": measure.machine_facts(),
    }


def distributions_of(maxima, found, dataset):
    """What a job makes of the per-image maxima: histograms and (with classes) class means."""
    spread = histograms(maxima)
    if dataset.classes is not None:
        seen = next(iter(found.values())).seen
        class_means(maxima, dataset.class_numbers(seen), count=len(dataset.classes))
    return spread


def run_peak_memory(folder, images, batch, pass_workers, in_memory):
    """Only the full pass over the first `images` of the folder and the distributions, as a
    job makes them, then the peak RSS: run once per dataset size, each in a fresh process.
    The maxima go to a spool on disk as in a job, or with `in_memory` stay in memory."""
    keep_freed_memory()
    network = load_builtin(ARCH, weights_path=bundled_weights_path(ARCH))
    layer_names = [layer.name for layer in network.layers]
    dataset = ImageDataset(folder_dataset(folder, size=SIZE).images[:images], size=SIZE)
    where = "in memory" if in_memory else "spooled"
    measure.log(f"dataset examples: peak memory of a pass over {len(dataset)} images, {where}")
    full = []
    with measure.stopwatch(full):
        decoded = batches(dataset, batch, workers=pass_workers)
        if in_memory:
            found = dataset_examples(network, layer_names, decoded, k=K)
            maxima = torch.cat([layer.maxima for layer in found.values()])
            distributions_of(maxima, found, dataset)
        else:
            units = sum(layer.channels for layer in network.layers)
            with MaximaSpool(units) as spool:
                found = dataset_examples(network, layer_names, decoded, k=K, spool=spool)
                distributions_of(spool, found, dataset)
    return {
        "name": "dataset_examples_peak_memory",
        "images": len(dataset),
        "maxima": where,
        "batch": batch,
        "k": K,
        "seconds": round(full[0], 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_rss_mb_largest_decode_process": round(
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
        ),
        "load_average_1min": os.getloadavg()[0],
        "machine": measure.machine_facts(),
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
    parser.add_argument(
        "--batches",
        type=int,
        help="time only the first N batches and skip the from-disk pass (all batches)",
    )
    parser.add_argument(
        "--kernels",
        choices=["auto", "pytorch"],
        default="auto",
        help="auto: numba kernels where they apply (float32 on the CPU); pytorch: PyTorch "
        "reductions and the sort merge only, the path a GPU takes (auto)",
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (cpu)")
    parser.add_argument(
        "--batch-size",
        type=int,
        default=BATCH,
        help=f"images per forward, the same on both sides (the job's default, {BATCH})",
    )
    parser.add_argument(
        "--folder", help="a folder of images (bench/make_dataset.py): decode / forward / pass"
    )
    parser.add_argument("--images", type=int, default=2000, help="with --folder: the first N")
    parser.add_argument(
        "--decode-workers",
        default="1,2",
        help="with --folder: the numbers of decode processes to time decoding alone with",
    )
    parser.add_argument(
        "--pass-workers",
        type=int,
        default=len(os.sched_getaffinity(0)),
        help="with --folder: decode processes of the full pass (the usable cores)",
    )
    parser.add_argument(
        "--peak-memory",
        action="store_true",
        help="with --folder: only the full pass over --images and the distributions, then "
        "the peak RSS",
    )
    parser.add_argument(
        "--in-memory",
        action="store_true",
        help="with --peak-memory: keep the per-image maxima in memory (no spool), as before",
    )
    args = parser.parse_args(argv)
    if args.folder:
        if args.threads:
            torch.set_num_threads(args.threads)
        if args.peak_memory:
            result = run_peak_memory(
                args.folder, args.images, args.batch_size, args.pass_workers, args.in_memory
            )
        else:
            result = run_folder(
                args.folder,
                args.images,
                args.batch_size,
                [int(n) for n in args.decode_workers.split(",") if n],
                args.batches or 4,
                args.repeats,
                args.pass_workers,
            )
        measure.emit(result)
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    repeats = 2 if args.quick else args.repeats
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    batch_count = QUICK_BATCHES if args.quick else args.batches
    if batch_count is not None and batch_count < 1:
        parser.error("--batches must be at least 1")
    if args.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    images = sys.maxsize if batch_count is None else batch_count * args.batch_size

    device = torch.device(args.device)
    result = run(
        repeats,
        images,
        from_disk=batch_count is None,
        kernels=args.kernels,
        device=device,
        batch=args.batch_size,
    )
    measure.emit(result)
    if not result["outputs_agree"]:
        measure.log("dataset examples: the pass and the bare forward computed different maps")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
