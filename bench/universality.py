"""Universality of MobileNetV2 against a channel-permuted copy, over the demo dataset.

The candidate is ``layer_correlation``: the demo dataset streamed in batches through both
networks, each layer's maps pooled to one number per image and unit, float64 sufficient
statistics on the device. The baseline, run on the same images in another process, keeps
every map of both layers until the end, then pools them and correlates with numpy's
corrcoef: it checks the streamed matrix and shows what holding the activations costs.

The copy has block 3's 144 hidden channels permuted throughout the block (expand conv and
batch norm, depthwise conv and batch norm, the projection's input channels), so that the
block's output is unchanged and `features.3.expand` / `features.3.depthwise` are permuted.
The result must recover the permutation exactly for every unit that is not constant.

Each measurement runs in a fresh process so that its peak RSS (ru_maxrss) is its own; the
growth is the peak minus the RSS after the networks were loaded. tracemalloc would not see
PyTorch's tensors (allocated in C++), so RSS is what is reported. Pure engine, no Django.
Prints one JSON object on stdout.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workers.engine.datasets import batches, demo_dataset  # noqa: E402
from workers.engine.networks import bundled_weights_path, load_builtin  # noqa: E402
from workers.engine.universality import (  # noqa: E402
    LayerSide,
    PairMoments,
    best_matches,
    layer_correlation,
)

LAYER = "features.3.expand"
HIDDEN = 144
SIZE = 224
SEED = 4


def _rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _permuted_copy(path, permutation):
    network = load_builtin("mobilenet_v2", weights_path=path)
    block = network.module.features[3].conv
    with torch.no_grad():
        for conv, norm in ((block[0], block[1]), (block[3], block[4])):
            conv.weight.copy_(conv.weight[permutation])
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(norm, name).copy_(getattr(norm, name)[permutation])
        block[6].weight.copy_(block[6].weight[:, permutation])
    return network


def _demo(images):
    dataset = demo_dataset(size=SIZE)
    dataset.images = dataset.images[:images]
    return dataset


def _recovery(found, permutation):
    matches = best_matches(found.correlation, found.constant_first, found.constant_second, 2)
    varying = (~found.constant_first).nonzero().flatten()
    expected = torch.argsort(permutation)[varying]
    return {
        "units": HIDDEN,
        "constant_units": int(found.constant_first.sum()),
        "recovered": int((matches.units[varying, 0] == expected).sum()),
        "of_varying": len(varying),
        "true_match_min_r": float(matches.r[varying, 0].min()),
        "second_best_max_r": float(matches.r[varying, 1].max()),
        "nan_in_matrix": bool(torch.isnan(found.correlation).any()),
    }


def _naive(original, permuted, dataset, batch, device):
    """Every map of both layers kept, then pooled and correlated at the end."""
    kept_first, kept_second = [], []
    with torch.inference_mode():
        for _, images in batches(dataset, batch):
            images = images.to(device)
            kept_first.append(original.activations(images, [LAYER])[LAYER])
            kept_second.append(permuted.activations(images, [LAYER])[LAYER])
    first = torch.cat(kept_first).mean(dim=(2, 3), dtype=torch.float64).cpu().numpy()
    second = torch.cat(kept_second).mean(dim=(2, 3), dtype=torch.float64).cpu().numpy()
    held = sum(t.numel() * t.element_size() for t in kept_first + kept_second)
    return np.corrcoef(first, second, rowvar=False)[:HIDDEN, HIDDEN:], held


def measure(side, images, batch, device):
    """One measurement in this process: `side` is "streamed" or "naive"."""
    device = torch.device(device)
    path = bundled_weights_path("mobilenet_v2")
    permutation = torch.randperm(HIDDEN, generator=torch.Generator().manual_seed(SEED))
    original = load_builtin("mobilenet_v2", weights_path=path).to(device)
    permuted = _permuted_copy(path, permutation).to(device)
    dataset = _demo(images)
    loaded_rss = _rss_mib()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        cuda_before = torch.cuda.memory_allocated(device)
    started = time.perf_counter()
    result = {"side": side, "images": len(dataset), "batch": batch, "device": str(device)}
    if side == "streamed":
        found = layer_correlation(
            LayerSide(original, LAYER), LayerSide(permuted, LAYER), batches(dataset, batch)
        )
        result["seconds"] = round(time.perf_counter() - started, 3)
        moments = PairMoments(HIDDEN, HIDDEN, "cpu")
        result["statistics_bytes"] = sum(
            value.numel() * value.element_size()
            for value in vars(moments).values()
            if isinstance(value, torch.Tensor)
        )
        result["recovery"] = _recovery(found, permutation)
        result["images_seen"] = found.images
        matrix = found.correlation.tolist()
    else:
        matrix, held = _naive(original, permuted, dataset, batch, device)
        result["seconds"] = round(time.perf_counter() - started, 3)
        result["maps_held_bytes"] = held
        matrix = matrix.tolist()
    result["rss_after_load_mib"] = round(loaded_rss, 1)
    result["peak_rss_mib"] = round(_rss_mib(), 1)
    result["peak_rss_growth_mib"] = round(_rss_mib() - loaded_rss, 1)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device) - cuda_before
        result["cuda_peak_growth_mib"] = round(peak / 2**20, 1)
    # Recorded after the peaks, so that serialising it does not count.
    result["matrix"] = matrix
    return result


def _child(side, images, batch, device):
    output = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            side,
            "--images",
            str(images),
            "--batch",
            str(batch),
            "--device",
            device,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, nargs="+", default=[64, 128, 257])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="32 images only")
    parser.add_argument("--child", choices=("streamed", "naive"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.images[0], args.batch, args.device)))
        return 0
    counts = [32] if args.quick else args.images
    runs = []
    for images in counts:
        print(f"{images} images ...", file=sys.stderr)
        streamed = _child("streamed", images, args.batch, args.device)
        naive = _child("naive", images, args.batch, args.device)
        candidate = np.asarray(streamed.pop("matrix"))
        baseline = np.asarray(naive.pop("matrix"))
        # corrcoef gives NaN for constant units, where the streamed matrix holds 0.
        finite = np.isfinite(baseline)
        runs.append(
            {
                "streamed": streamed,
                "naive": naive,
                "max_abs_difference_to_naive": float(
                    np.abs(candidate[finite] - baseline[finite]).max()
                ),
                "streamed_zero_where_naive_nan": bool((candidate[~finite] == 0).all()),
            }
        )
    failed = any(
        run["streamed"]["recovery"]["recovered"] != run["streamed"]["recovery"]["of_varying"]
        or run["streamed"]["recovery"]["nan_in_matrix"]
        or run["max_abs_difference_to_naive"] > 1e-6
        or not run["streamed_zero_where_naive_nan"]
        for run in runs
    )
    print(json.dumps({"layer": LAYER, "runs": runs, "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
