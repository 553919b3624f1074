"""One batch of feature visualizations: many images optimised in one Adam run."""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch._dynamo.exc import TorchDynamoException

from workers.engine.featurevis.objectives import OBJECTIVES, Targets, unit_maps
from workers.engine.featurevis.options import RenderOptions
from workers.engine.featurevis.param import colour_matrix, finish_images, image_source
from workers.engine.featurevis.pre_activation import ACTIVATION
from workers.engine.featurevis.relu import REDIRECT_STEPS, redirected
from workers.engine.featurevis.speedups.compiled import (
    compiled_front,
    float_maps,
    front_key,
    give_up,
    step_images,
)
from workers.engine.featurevis.transforms import (
    draw_transforms,
    transform_matrices,
    transformed_size,
)
from workers.engine.networks import LoadedNetwork

CURVE_EVERY = 8
# On CUDA: eager steps on a side stream before a step is captured as a CUDA graph, and the
# fewest steps worth capturing for (redirected steps, warm-up, at least one replay).
GRAPH_WARMUP = 3
GRAPH_FROM = REDIRECT_STEPS + GRAPH_WARMUP


@dataclass(frozen=True)
class MapStats:
    """Spatial mean and max of the map of the unit an image was made for."""

    mean: float
    max: float


@dataclass(frozen=True)
class UnitRender:
    """One rendered image of a unit.

    variant: "positive", "neuron", "negative" or "diversity-<i>".
    curve: (step, objective) every CURVE_EVERY steps and at the last step, as optimised
    (on transformed images; for "channel", the map's mean floored at its top decile:
    objectives.py). final_activation: on the final image, without transforms.
    objective_at: "pre_activation" where the layer ends in a capping activation (the curve
    and final statistics are then of its pre-activation floored at its spatial median:
    pre_activation.py), else "activation".
    """

    unit: int
    variant: str
    rgb: np.ndarray
    curve: list[tuple[int, float]]
    final_activation: MapStats
    objective_at: str


@dataclass(frozen=True)
class RenderItem:
    """One image to render: the unit it is for and its variant."""

    unit: int
    variant: str


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
    # What the layer maps of the network rendered with are (pre_activation.py): its
    # activation unless the caller passes a pre-activation view.
    objective_at: str = ACTIVATION


def item_generator(seed: int, unit: int, variant: str) -> torch.Generator:
    """The generator an image draws its start and transforms from, whatever its batch."""
    digest = hashlib.sha256(f"{seed}/{unit}/{variant}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


def curve_steps(steps: int) -> list[int]:
    """Steps whose objective the curve records: every CURVE_EVERY-th and the last."""
    return sorted({*range(0, steps, CURVE_EVERY), steps - 1})


def target_maps(network: LoadedNetwork, images: torch.Tensor, layer: str) -> torch.Tensor:
    """The layer's float32 maps of [0, 1] images, bf16-autocast on CUDA, by the hooked network."""
    return float_maps(images, lambda pixels: network.activations(pixels, [layer])[layer])


def _targets(
    items: Sequence[RenderItem], settings: RenderSettings, device: torch.device
) -> Targets:
    """The objective's view of a batch of items."""
    units = torch.tensor([item.unit for item in items], device=device)
    return Targets(units=units, group=settings.group)


class _Step:
    """One optimisation step of a batch: RGB images, transforms, forward, objective, Adam.

    The transform matrices of the current step are copied into one buffer first, so that a
    CUDA graph captured from a step reads the next step's matrices when replayed. With
    `compile`, the steps that do not redirect run everything after the image
    parameterization through one compiled `Front` where there is one (speedups/compiled.py).
    """

    def __init__(
        self,
        network: LoadedNetwork,
        items: Sequence[RenderItem],
        settings: RenderSettings,
        *,
        graphs: bool,
        compile: bool = False,
    ):
        device = network.device
        generators = [item_generator(settings.seed, item.unit, item.variant) for item in items]
        self.values, self.raw = image_source(
            settings.param, generators, settings.size, device=device
        )
        self.colour = colour_matrix().to(device) if settings.decorrelate else None
        self.matrices = (
            transform_matrices(draw_transforms(generators, settings.steps), settings.size).to(
                device
            )
            if settings.transforms
            else None
        )
        self.matrix = None if self.matrices is None else torch.empty_like(self.matrices[0])
        self.network = network
        self.settings = settings
        self.targets = _targets(items, settings, device)
        self.objective = OBJECTIVES[settings.objective]
        # A capturable Adam keeps its step count on the device, as graph replays need; on
        # CUDA one fused kernel updates the whole batch (foreach Adam takes several passes).
        self.optimizer = torch.optim.Adam(
            [self.values], lr=settings.lr, capturable=graphs, fused=device.type == "cuda"
        )
        # The side of the transformed images, None without transforms.
        self.out_size = transformed_size(settings.size) if settings.transforms else None
        self.front_key = front_key(settings.layer, self.colour, self.out_size)
        self.front = (
            compiled_front(network, settings.layer, colour=self.colour, out_size=self.out_size)
            if compile
            else None
        )

    def to_rgb(self, values: torch.Tensor) -> torch.Tensor:
        """The batch's RGB images in [0, 1] from its parameters."""
        return finish_images(self.raw(values), self.colour)

    def __call__(self, step: int, *, redirect: bool) -> torch.Tensor:
        """Take optimisation step `step`; the batch's objectives [B] before it."""
        self.optimizer.zero_grad(set_to_none=True)
        return self.body(step, redirect=redirect)

    def body(self, step: int | None, *, redirect: bool) -> torch.Tensor:
        """The step without zeroing gradients (a captured step writes them afresh)."""
        if self.matrix is not None and step is not None:
            self.matrix.copy_(self.matrices[step])
        objectives = self.objective(self._maps(redirect=redirect), self.targets)
        (-objectives.sum()).backward()
        self.optimizer.step()
        return objectives.detach()

    def _maps(self, *, redirect: bool) -> torch.Tensor:
        """The target layer's maps of this step's images: compiled when not redirecting, if
        it compiles."""
        raw = self.raw(self.values)
        if self.front is not None and not redirect:
            try:
                return self.front(raw, self.matrix)
            except TorchDynamoException as error:
                give_up(self.network, self.front_key, error)
                self.front = None
        images = step_images(raw, self.colour, self.matrix, self.out_size)
        with redirected(self.network.module, enabled=redirect):
            return target_maps(self.network, images, self.settings.layer)


def _graph_of(
    step: _Step, first: int
) -> tuple[torch.cuda.CUDAGraph, torch.Tensor, list[torch.Tensor]]:
    """Warm up on a side stream with steps first… and capture one step without redirection.

    Returns the graph, the objectives tensor its replays write and the warm-up steps'
    objectives. Warm-up steps are real steps of the optimisation; the captured step is not
    (capturing runs no kernel).
    """
    side = torch.cuda.Stream(step.values.device)
    side.wait_stream(torch.cuda.current_stream(step.values.device))
    with torch.cuda.stream(side):
        warmed = [step(first + offset, redirect=False) for offset in range(GRAPH_WARMUP)]
    torch.cuda.current_stream(step.values.device).wait_stream(side)
    step.optimizer.zero_grad(set_to_none=True)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        objectives = step.body(None, redirect=False)
    return graph, objectives, warmed


def _optimise(
    network: LoadedNetwork,
    items: Sequence[RenderItem],
    settings: RenderSettings,
    options: RenderOptions,
    on_step: Callable[[int], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Final images [B, 3, size, size] in [0, 1] and sampled objectives [B, samples].

    On CUDA with `options.cuda_graphs`, the steps after the redirected-gradient ones replay a
    CUDA graph of one step: the same kernels on the same buffers, without Python or launch
    costs in between. on_step(steps done) after each step; it reads nothing from the device,
    so it adds no synchronisation.
    """
    graphs = options.cuda_graphs and network.device.type == "cuda" and settings.steps > GRAPH_FROM
    step = _Step(network, items, settings, graphs=graphs, compile=options.compile)
    sampled = set(curve_steps(settings.steps))
    samples = []

    def record(index: int, objectives: torch.Tensor):
        if index in sampled:
            samples.append(objectives.clone())
        if on_step is not None:
            on_step(index + 1)

    eager = REDIRECT_STEPS if graphs else settings.steps
    for index in range(eager):
        record(index, step(index, redirect=index < REDIRECT_STEPS))
    if graphs:
        graph, objectives, warmed = _graph_of(step, eager)
        for offset, warm in enumerate(warmed):
            record(eager + offset, warm)
        for index in range(eager + GRAPH_WARMUP, settings.steps):
            if step.matrix is not None:
                step.matrix.copy_(step.matrices[index])
            graph.replay()
            record(index, objectives)
        del graph
    with torch.no_grad():
        return step.to_rgb(step.values), torch.stack(samples, dim=1)


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
        own = unit_maps(maps, targets.units)
        means = own.mean(dim=(1, 2)).tolist()
        maxima = own.amax(dim=(1, 2)).tolist()
    return [MapStats(mean, maximum) for mean, maximum in zip(means, maxima, strict=True)]


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[B, 3, H, W] in [0, 1] as a [B, H, W, 3] uint8 array."""
    scaled = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    return scaled.permute(0, 2, 3, 1).cpu().numpy()


def render_batch(
    network: LoadedNetwork,
    items: Sequence[RenderItem],
    settings: RenderSettings,
    options: RenderOptions,
    on_step: Callable[[int], None] | None = None,
) -> list[UnitRender]:
    """Render a batch of items in one optimisation; `network` is a render copy.
    on_step(steps done): after each optimisation step."""
    images, samples = _optimise(network, items, settings, options, on_step)
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
            objective_at=settings.objective_at,
        )
        for position, (item, curve) in enumerate(zip(items, samples.cpu().tolist(), strict=True))
    ]
