"""One render step on the GPU: milliseconds per graphed step of one batch, variant by variant.

Where `bench/render.py --sweep` times whole renders, this times the step they repeat 493
times out of 512 (a CUDA-graph replay), for one layer and batch size, under each variant of
the engine's GPU options, in one process, so that they compare on the same card:

    stem:   the first convolution as it is ("plain") or space-to-depth ("s2d", speedups/stem.py)
    cudnn:  cuDNN's heuristics ("heuristic") or its timed choice per shape ("benchmark")
    forward: the eager network with hooks ("eager") or everything after the FFT compiled
            ("compiled", speedups/compiled.py)

Then a profile of a few (ungraphed) steps of the fastest variant: the kernels that take the
most GPU time, as a table on stderr. InceptionV1 with random weights by default. Pure engine,
no Django; CUDA only.
"""

import argparse
import sys

import measure
import torch

from workers.engine.architectures import BUILTIN
from workers.engine.featurevis.batch import RenderItem, RenderSettings, _graph_of, _Step
from workers.engine.featurevis.options import RenderOptions
from workers.engine.featurevis.speedups import fast
from workers.engine.networks import load_builtin

SEED = 0


def settings_for(layer: str, steps: int, size: int) -> RenderSettings:
    """The settings render_units uses by default for the channel objective."""
    return RenderSettings(
        layer=layer,
        objective="channel",
        steps=steps,
        size=size,
        lr=0.05,
        param="fft",
        decorrelate=True,
        transforms=True,
        group=1,
        seed=SEED,
    )


def step_milliseconds(network, layer, batch, *, options, size, replays, rounds):
    """Median milliseconds per graph replay of one step of `batch` images of the layer."""
    copy = fast.render_copy(
        network, network.device, space_to_depth_stem=options.space_to_depth_stem
    )
    units = [unit % network.layer(layer).channels for unit in range(batch)]
    items = [RenderItem(unit=unit, variant=f"positive-{index}") for index, unit in enumerate(units)]
    settings = settings_for(layer, replays * rounds + 8, size)
    step = _Step(copy, items, settings, graphs=True, compile=options.compile)
    graph, _, _ = _graph_of(step, 0)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    samples = []
    for round_number in range(rounds):
        torch.cuda.synchronize()
        start.record()
        for index in range(replays):
            step.matrix.copy_(step.matrices[4 + round_number * replays + index])
            graph.replay()
        end.record()
        torch.cuda.synchronize()
        samples.append(start.elapsed_time(end) / replays)
    del graph
    return samples, step


def profile_steps(step, count: int, rows: int) -> str:
    """Kernel table of `count` ungraphed steps, by GPU time."""
    from torch.profiler import ProfilerActivity, profile

    for index in range(2):
        step(index, redirect=False)
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for index in range(count):
            step(index, redirect=False)
        torch.cuda.synchronize()
    return prof.key_averages().table(sort_by="self_cuda_time_total", row_limit=rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="inception_v1", choices=sorted(BUILTIN))
    parser.add_argument("--layer", default="mixed3b")
    parser.add_argument("--batch", type=int, default=240, help="images in the batch (240)")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (128)")
    parser.add_argument("--replays", type=int, default=50, help="timed replays per round (50)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per variant (3)")
    parser.add_argument(
        "--forwards", default="eager,compiled", help="forwards to time (eager,compiled)"
    )
    parser.add_argument("--stems", default="plain,s2d", help="stems to time (plain,s2d)")
    parser.add_argument(
        "--cudnn", default="heuristic", help="cuDNN algorithm choices to time (heuristic)"
    )
    parser.add_argument("--profile-steps", type=int, default=5, help="0: no profile (5)")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        measure.log("gpu_step: no CUDA device")
        return 1
    results = []
    best = None
    for forward in args.forwards.split(","):
        for stem in args.stems.split(","):
            options = RenderOptions(
                compile=forward == "compiled", space_to_depth_stem=stem == "s2d"
            )
            # A fresh network per stem and forward: render copies and compiled code are cached
            # beside the network they were made from.
            network = load_builtin(args.network, random_seed=SEED).to("cuda")
            for cudnn in args.cudnn.split(","):
                torch.backends.cudnn.benchmark = cudnn == "benchmark"
                measure.log(f"gpu_step: {forward}, {stem} stem, cuDNN {cudnn}")
                samples, step = step_milliseconds(
                    network,
                    args.layer,
                    args.batch,
                    options=options,
                    size=args.size,
                    replays=args.replays,
                    rounds=args.rounds,
                )
                variant = {"forward": forward, "stem": stem, "cudnn": cudnn}
                milliseconds = measure.median(samples)
                results.append({**variant, "ms_per_step": measure.summary(samples, digits=3)})
                measure.log(f"gpu_step: {variant}: {milliseconds:.3f} ms per step")
                if best is None or milliseconds < best[0]:
                    best = (milliseconds, variant, step)
    table = None
    if args.profile_steps:
        milliseconds, variant, step = best
        torch.backends.cudnn.benchmark = variant["cudnn"] == "benchmark"
        table = profile_steps(step, args.profile_steps, 40)
        print(f"profile of {variant}, {args.profile_steps} ungraphed steps:", file=sys.stderr)
        print(table, file=sys.stderr)
    measure.emit(
        {
            "name": "gpu_step",
            "measured": f"milliseconds per CUDA-graph replay of one render step of {args.batch} "
            f"images of {args.network} {args.layer} ({args.size} px, channel objective, "
            "transforms on), median of rounds",
            "results": results,
            "fastest": best[1],
            "device": torch.cuda.get_device_name(),
            "torch": torch.__version__,
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
