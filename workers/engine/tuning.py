"""Tuning curves: a layer's units' responses to synthetic stimuli at their receptive field.

Every stimulus is drawn centred on the receptive field of the layer's centre position (the
map's middle; for even sizes the lower-right of the middle 2×2, as the neuron objective) and
sized to that field, so one forward pass measures every unit of the layer at once: the
response of unit u to a stimulus is u's activation at that position. Each family's responses
are compared with the blank grey canvas's (the baseline).

The activation read is the layer's output as the network computes it. A layer whose output
is capped (ReLU, ReLU6) reads 0 for every stimulus below its threshold, so such units show
flat curves where their pre-activation would still rank the stimuli.

Selectivity indices, on the rectified response above the baseline, r = max(response −
baseline, 0), taken along one axis at the preferred values of the others:
- ``circular_variance`` (edge, line, grating, curve, colour): 1 − |Σ r·e^{2πiθ/P}| / Σ r
  over the angle θ of period P (360° for edge direction, curve orientation and hue; 180° for
  line and grating orientation; a grating's response is first maximised over phase): 0 for a
  unit that answers one angle only, 1 for one that answers all alike (Ringach et al. 2002).
- ``peak_selectivity`` (colour_contrast over the hue pairs, each at its best orientation;
  dot over every radius and polarity): 1 − mean(r) / max(r): 0 for a flat response, towards
  1 for a single peak.
Both are None when no stimulus of the family raises the response above the baseline.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from workers.engine.networks import LayerInfo, LoadedNetwork
from workers.engine.stimuli import Family, Placement, blank

# Called after each forward pass with the number of stimuli measured so far.
Progress = Callable[[int], None]


@dataclass(frozen=True)
class LayerTuning:
    """Responses of the units ``units`` to every family, measured at ``position``.

    ``responses[name]``: [units, *family.shape] float32 on the CPU; ``baseline``: [units].
    """

    layer: str
    units: list[int]
    position: tuple[int, int]
    placement: Placement
    families: list[Family]
    responses: dict[str, torch.Tensor]
    baseline: torch.Tensor

    @property
    def stimuli(self) -> int:
        return sum(len(family) for family in self.families)


@dataclass(frozen=True)
class FamilyTuning:
    """One unit's answer to one family: its best stimulus, a curve and a selectivity index."""

    family: str
    preferred: dict[str, float]
    peak: float
    axis: str
    curve_values: list[float]
    curve: list[float]
    index: str
    selectivity: float | None


def centre_position(layer: LayerInfo) -> tuple[int, int]:
    """The map position the stimuli are centred on: the middle of the layer's map."""
    return layer.height // 2, layer.width // 2


def placement(layer: LayerInfo, input_size: int, *, scale: float = 1.0) -> Placement:
    """The disc the centre position sees: its receptive field times ``scale``, on a canvas
    of the network's input size, centred on pixel p · stride (as the dataset-example crops).

    Without a known receptive field (TorchScript networks) the disc is the whole canvas,
    centred where the position's share of the map falls.
    """
    y, x = centre_position(layer)
    if layer.receptive_field is None or layer.stride is None:
        centre_y = (y + 0.5) * input_size / layer.height - 0.5
        centre_x = (x + 0.5) * input_size / layer.width - 0.5
        return Placement(input_size, centre_y, centre_x, float(input_size) * scale)
    diameter = min(layer.receptive_field * scale, float(input_size))
    return Placement(input_size, float(y * layer.stride), float(x * layer.stride), diameter)


def layer_tuning(
    network: LoadedNetwork,
    layer_name: str,
    families: Sequence[Family],
    place: Placement,
    *,
    units: Sequence[int] | None = None,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> LayerTuning:
    """Every family's stimuli through ``network`` to ``layer_name``, batch by batch, on the
    network's device; the chosen units' activations at the centre position."""
    layer = network.layer(layer_name)
    chosen = list(range(layer.channels)) if units is None else list(units)
    y, x = centre_position(layer)
    index = torch.tensor(chosen, device=network.device)

    def respond(images):
        maps = network.activations(images, [layer_name])[layer_name]
        return maps[:, :, y, x].index_select(1, index).float().cpu()

    done = 0
    responses = {}
    with torch.no_grad():
        baseline = respond(blank(place, network.device))[0]
        for family in families:
            parts = []
            for start in range(0, len(family), batch_size):
                stop = min(start + batch_size, len(family))
                parts.append(respond(family.images(place, start, stop, network.device)))
                done += stop - start
                if progress is not None:
                    progress(done)
            responses[family.name] = torch.cat(parts).T.reshape(len(chosen), *family.shape)
    return LayerTuning(
        layer=layer_name,
        units=chosen,
        position=(y, x),
        placement=place,
        families=list(families),
        responses=responses,
        baseline=baseline,
    )


def circular_variance(
    rectified: torch.Tensor, angles: Sequence[float], period: float
) -> float | None:
    """1 − |Σ r·e^{2πiθ/P}| / Σ r of non-negative responses ``rectified`` at ``angles``;
    None when all are 0."""
    total = float(rectified.sum())
    if total <= 0:
        return None
    theta = torch.tensor(angles, dtype=torch.float64) * (2 * math.pi / period)
    weights = rectified.double()
    resultant = math.hypot(
        float((weights * torch.cos(theta)).sum()), float((weights * torch.sin(theta)).sum())
    )
    return 1 - resultant / total


def peak_selectivity(rectified: torch.Tensor) -> float | None:
    """1 − mean / max of non-negative responses; None when all are 0."""
    peak = float(rectified.max())
    if peak <= 0:
        return None
    return 1 - float(rectified.mean()) / peak


def unit_family_tuning(family: Family, responses: torch.Tensor, baseline: float) -> FamilyTuning:
    """One unit's ``responses`` (shaped as the family's grid) summarised: the grid point it
    answers most, its curve along the family's main axis (the other axes at their preferred
    values, pooled axes at their best) and the family's selectivity index."""
    names = list(family.axes)
    where = _unravel(int(responses.argmax()), responses.shape)
    preferred = {name: float(family.axes[name][where[i]]) for i, name in enumerate(names)}
    pooled = responses
    for name in family.pooled:
        pooled = pooled.amax(dim=names.index(name), keepdim=True)
    rectified = (pooled - baseline).clamp(min=0)
    axis = family.circular[0] if family.circular else names[0]
    along = names.index(axis)
    selector = tuple(
        slice(None) if i == along else (0 if name in family.pooled else where[i])
        for i, name in enumerate(names)
    )
    if family.circular:
        index = "circular_variance"
        selectivity = circular_variance(rectified[selector], family.axes[axis], family.circular[1])
    else:
        index = "peak_selectivity"
        selectivity = peak_selectivity(rectified.flatten())
    return FamilyTuning(
        family=family.name,
        preferred=preferred,
        peak=float(responses.max()),
        axis=axis,
        curve_values=list(family.axes[axis]),
        curve=[float(r) for r in pooled[selector]],
        index=index,
        selectivity=selectivity,
    )


def _unravel(flat: int, shape: Sequence[int]) -> tuple[int, ...]:
    """The grid index of row-major position ``flat``."""
    where = []
    for size in reversed(shape):
        where.append(flat % size)
        flat //= size
    return tuple(reversed(where))
