"""One batch of feature visualizations: many images optimised in one Adam run."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from workers.engine.featurevis.objectives import (
    OBJECTIVES,
    Targets,
    direction_maps,
    unit_maps,
)
from workers.engine.featurevis.param import image_param
from workers.engine.featurevis.relu import REDIRECT_STEPS, redirected
from workers.engine.featurevis.transforms import (
    apply_transforms,
    draw_transforms,
    transform_matrices,
    transformed_size,
)
from workers.engine.networks import LoadedNetwork

CURVE_EVERY = 8


@dataclass(frozen=True)
class MapStats:
    """Spatial mean and max of the map an image was made for (a unit's, or a direction's)."""

    mean: float
    max: float


@dataclass(frozen=True)
class UnitRender:
    """One rendered image of a unit.

    variant: "positive", "neuron", "negative", "diversity-<i>" or "direction".
    curve: (step, objective) every CURVE_EVERY steps and at the last step, as optimised
    (on transformed images). final_activation: on the final image, without transforms.
    """

    unit: int
    variant: str
    rgb: np.ndarray
    curve: list[tuple[int, float]]
    final_activation: MapStats


@dataclass(frozen=True)
class RenderItem:
    """One image to render: the unit it is for, its variant, its direction if any."""

    unit: int
    variant: str
    direction: torch.Tensor | None = None


@dataclass(frozen=True)
class RenderSettings:
    """Everything about a render that is the same for every batch."""

    layer: str
    objective: str
    steps: int
    size: int
    lr: float
    param: str
    decorrelate: bool
    transforms: bool
    group: int
    seed: int


def item_generator(seed: int, unit: int, variant: str) -> torch.Generator:
    """The generator an image draws its start and transforms from, whatever its batch."""
    digest = hashlib.sha256(f"{seed}/{unit}/{variant}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


def curve_steps(steps: int) -> list[int]:
    """Steps whose objective the curve records: every CURVE_EVERY-th and the last."""
    return sorted({*range(0, steps, CURVE_EVERY), steps - 1})


def target_maps(network: LoadedNetwork, images: torch.Tensor, layer: str) -> torch.Tensor:
    """The layer's float32 maps of [0, 1] images, bf16-autocast on CUDA."""
    channels_last = images.contiguous(memory_format=torch.channels_last)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=network.device.type == "cuda"):
        maps = network.activations(channels_last, [layer])[layer]
    return maps.float()


def _targets(
    items: Sequence[RenderItem], settings: RenderSettings, device: torch.device
) -> Targets:
    """The objective's view of a batch of items."""
    units = torch.tensor([item.unit for item in items], device=device)
    if settings.objective != "direction":
        return Targets(units=units, group=settings.group)
    directions = torch.stack([item.direction for item in items]).to(device)
    return Targets(units=units, directions=directions)


def _optimise(
    network: LoadedNetwork, items: Sequence[RenderItem], settings: RenderSettings
) -> tuple[torch.Tensor, torch.Tensor]:
    """Final images [B, 3, size, size] in [0, 1] and sampled objectives [B, samples]."""
    device = network.device
    generators = [item_generator(settings.seed, item.unit, item.variant) for item in items]
    values, to_rgb = image_param(
        settings.param, generators, settings.size, decorrelate=settings.decorrelate, device=device
    )
    matrices = (
        transform_matrices(draw_transforms(generators, settings.steps), settings.size).to(device)
        if settings.transforms
        else None
    )
    targets = _targets(items, settings, device)
    objective = OBJECTIVES[settings.objective]
    optimizer = torch.optim.Adam([values], lr=settings.lr)
    sampled = set(curve_steps(settings.steps))
    samples = []
    out_size = transformed_size(settings.size)
    for step in range(settings.steps):
        optimizer.zero_grad(set_to_none=True)
        images = to_rgb(values)
        if matrices is not None:
            images = apply_transforms(images, matrices[step], out_size)
        with redirected(network.module, enabled=step < REDIRECT_STEPS):
            maps = target_maps(network, images, settings.layer)
        objectives = objective(maps, targets)
        (-objectives.sum()).backward()
        optimizer.step()
        if step in sampled:
            samples.append(objectives.detach())
    with torch.no_grad():
        return to_rgb(values), torch.stack(samples, dim=1)


def _final_stats(
    network: LoadedNetwork,
    images: torch.Tensor,
    items: Sequence[RenderItem],
    settings: RenderSettings,
) -> list[MapStats]:
    """Mean and max of each image's own map on the untransformed final images."""
    targets = _targets(items, settings, network.device)
    with torch.no_grad():
        maps = target_maps(network, images, settings.layer)
        if settings.objective == "direction":
            own = direction_maps(maps, targets.directions)
        else:
            own = unit_maps(maps, targets.units)
        means = own.mean(dim=(1, 2)).tolist()
        maxima = own.amax(dim=(1, 2)).tolist()
    return [MapStats(mean, maximum) for mean, maximum in zip(means, maxima, strict=True)]


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[B, 3, H, W] in [0, 1] as a [B, H, W, 3] uint8 array."""
    scaled = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    return scaled.permute(0, 2, 3, 1).cpu().numpy()


def render_batch(
    network: LoadedNetwork, items: Sequence[RenderItem], settings: RenderSettings
) -> list[UnitRender]:
    """Render a batch of items in one optimisation; `network` is a render copy."""
    images, samples = _optimise(network, items, settings)
    stats = _final_stats(network, images, items, settings)
    steps = curve_steps(settings.steps)
    pixels = to_uint8(images)
    return [
        UnitRender(
            unit=item.unit,
            variant=item.variant,
            rgb=pixels[position],
            curve=list(zip(steps, curve, strict=True)),
            final_activation=stats[position],
        )
        for position, (item, curve) in enumerate(zip(items, samples.cpu().tolist(), strict=True))
    ]
