"""Feature visualizations of many units of a layer, rendered in batches."""

from collections.abc import Callable, Sequence

import torch

from workers.engine.allocator import keep_freed_memory
from workers.engine.featurevis.batch import RenderItem, RenderSettings, UnitRender, render_batch
from workers.engine.featurevis.objectives import OBJECTIVES
from workers.engine.featurevis.options import RenderOptions
from workers.engine.featurevis.pre_activation import at_pre_activation, objective_site
from workers.engine.featurevis.speedups.fast import render_copy
from workers.engine.networks import LoadedNetwork

# Images per batch when the caller does not say. On CUDA the batch starts large and halves on
# out-of-memory. On CPU (MobileNetV2, 128 px, 1 and 2 threads) time per image falls up to a
# batch of 8-16 and rises again at 32, when a batch's maps no longer fit the caches.
DEFAULT_BATCH = {"cuda": 256, "cpu": 8}
VARIANTS = {"channel": "positive", "neuron": "neuron", "negative": "negative"}

OnBatch = Callable[[list[UnitRender], int, int], None]
# on_step(step, steps, units): a step of the batch now optimising `units` is done.
OnStep = Callable[[int, int, list[int]], None]


def _unit_groups(units: Sequence[int], objective: str, diversity: int) -> list[list[RenderItem]]:
    """The images to render, grouped by unit (a group has several only for diversity)."""
    if objective == "diversity":
        return [[RenderItem(unit, f"diversity-{i}") for i in range(diversity)] for unit in units]
    return [[RenderItem(unit, VARIANTS[objective])] for unit in units]


def _check_request(
    channels: int,
    units: Sequence[int],
    *,
    objective: str,
    steps: int,
    size: int,
    diversity: int,
    batch_size: int | None,
):
    """Reject requests the renderer cannot honour, with a message saying why."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}.")
    if not units or len(set(units)) != len(units):
        raise ValueError("units must be a non-empty list without repeats.")
    if steps < 1 or size < 1:
        raise ValueError(f"steps and size must be at least 1; got {steps} and {size}.")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}.")
    if objective == "diversity" and diversity < 2:
        raise ValueError(f"diversity needs at least 2 images per unit; got {diversity}.")
    if not all(0 <= unit < channels for unit in units):
        raise ValueError(f"units must lie in 0…{channels - 1}.")


def rendered_network(
    network: LoadedNetwork, layer: str, device: torch.device, options: RenderOptions
) -> LoadedNetwork:
    """The network a render of the layer runs: the render copy for the device and options,
    reading the layer at its pre-activation where it ends in a capping activation."""
    fast = render_copy(network, device, space_to_depth_stem=options.space_to_depth_stem)
    return at_pre_activation(fast, layer)


def default_transforms(network: LoadedNetwork, layer: str) -> bool:
    """Whether a render of the layer uses Lucid's random transforms by default: everywhere
    but on the network's first layer.

    The transforms (jitter, ±10% scale, ±10° rotation, resampled bilinearly) make a
    visualization robust where a unit integrates many pixels through many layers, and keep it
    from the high-frequency patterns that fool deep units. A first-layer unit sees a few
    pixels (MobileNetV2's features.0: 3 × 3) through one affine map: its best input is a patch
    of saturated pixels, a pattern of exactly the pixel scale that resampling blurs. With the
    transforms, 9 of MobileNetV2's 32 first-layer units did better on another unit's render
    than on their own; without them, one (a unit whose filter is ~0 and answers every image
    alike): bench/RENDER.md, "Quality".
    """
    return network.layer(layer).order != 0


def render_units(
    network: LoadedNetwork,
    layer: str,
    units: Sequence[int],
    *,
    objective: str = "channel",
    steps: int = 512,
    size: int = 128,
    lr: float = 0.05,
    param: str = "fft",
    decorrelate: bool = True,
    transforms: bool | None = None,
    diversity: int = 4,
    batch_size: int | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
    options: RenderOptions | None = None,
    on_batch: OnBatch | None = None,
    on_step: OnStep | None = None,
) -> list[UnitRender]:
    """Feature visualizations of units of one layer, many units per optimisation.

    objective: "channel", "neuron", "negative" or "diversity" (`diversity` images per unit
    that are pushed apart).
    param: "fft" or "pixel". transforms: Lucid's random transforms, drawn per image; None
    (the default): `default_transforms` of the layer, on everywhere but a first layer.
    batch_size: images per optimisation; by default DEFAULT_BATCH for the device, halved on
    CUDA out-of-memory. Every image draws its start and transforms from (seed, unit,
    variant), so renders do not depend on how they are batched.
    device: where to render; the network's device by default. On CPU, the process's malloc
    keeps freed memory from then on (see allocator.py).
    options: the speed-ups to use; by default `RenderOptions.for_device(device)`.
    Where the layer ends in a capping activation (ReLU, ReLU6, hard-tanh), the objective
    reads its pre-activation (pre_activation.py); each render's `objective_at` says which.
    on_batch(renders, done, total): called after each batch.
    on_step(step, steps, units): called after each optimisation step of a batch, with the
    units that batch renders (a job's progress inside a batch).
    """
    channels = network.layer(layer).channels
    units = [int(unit) for unit in units]
    _check_request(
        channels,
        units,
        objective=objective,
        steps=steps,
        size=size,
        diversity=diversity,
        batch_size=batch_size,
    )
    device = network.device if device is None else torch.device(device)
    options = RenderOptions.for_device(device) if options is None else options
    if device.type == "cpu":
        keep_freed_memory()
    groups = _unit_groups(units, objective, diversity)
    if transforms is None:
        transforms = default_transforms(network, layer)
    settings = RenderSettings(
        layer=layer,
        objective=objective,
        steps=steps,
        size=size,
        lr=lr,
        param=param,
        decorrelate=decorrelate,
        transforms=transforms,
        group=len(groups[0]),
        seed=seed,
        objective_at=objective_site(network, layer),
    )
    return _render_groups(
        rendered_network(network, layer, device, options),
        groups,
        settings,
        options,
        capacity=max(
            1,
            (batch_size or DEFAULT_BATCH.get(device.type, DEFAULT_BATCH["cpu"])) // settings.group,
        ),
        on_batch=on_batch,
        on_step=on_step,
    )


def _render_groups(
    network: LoadedNetwork,
    groups: list[list[RenderItem]],
    settings: RenderSettings,
    options: RenderOptions,
    *,
    capacity: int,
    on_batch: OnBatch | None,
    on_step: OnStep | None = None,
) -> list[UnitRender]:
    """Render up to `capacity` groups per batch, halving it and retrying when memory runs out.

    The groups left are split into batches of equal size (within one): 480 units at a
    capacity of 256 make two batches of 240, not 256 and 224, so that a layer's batches share
    one shape (one compile, one set of cuDNN and FFT plans) and none is a small remainder.
    """
    total = sum(len(group) for group in groups)
    renders: list[UnitRender] = []
    start = 0
    while start < len(groups):
        left = len(groups) - start
        batches = -(-left // capacity)
        chunk = groups[start : start + -(-left // batches)]
        try:
            items = [item for group in chunk for item in group]
            units = [group[0].unit for group in chunk]
            batch = render_batch(
                network, items, settings, options, _batch_steps(on_step, settings.steps, units)
            )
        except torch.OutOfMemoryError:
            if len(chunk) == 1:
                raise
            capacity = (len(chunk) + 1) // 2
            continue
        renders.extend(batch)
        start += len(chunk)
        if on_batch is not None:
            on_batch(batch, len(renders), total)
    return renders


def _batch_steps(on_step: OnStep | None, steps: int, units: list[int]):
    """`on_step` bound to the batch that renders `units`: called with the step alone."""
    if on_step is None:
        return None
    return lambda step: on_step(step, steps, units)
