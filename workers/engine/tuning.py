"""Tuning curves: a layer's units' responses to synthetic stimuli at their receptive field.

Every stimulus is drawn centred on the receptive field of one position of the layer's map
and sized to that field (`measurement_site`), so one forward pass measures every unit of the
layer at once: the response of unit u to a stimulus is u's activation at that position.
Each family's responses are compared with the blank grey canvas's (the baseline).

The activation read is the layer's output as the network computes it, except where the layer
ends in a capping activation (ReLU, ReLU6, hard-tanh: ``network.capping_activations``): its
output reads 0 for every stimulus below the threshold, so a unit below it on grey would show
a flat curve where its pre-activation still ranks the stimuli. There the pre-activation is
read, as feature visualization renders such layers (featurevis/pre_activation.py), unfloored;
``LayerTuning.activation`` says which.

Selectivity indices, on the rectified response above the baseline, r = max(response −
baseline, 0), taken along one axis at the preferred values of the others:
- ``circular_variance`` (edge, line, grating, curve, colour): 1 − |Σ r·e^{2πiθ/P}| / Σ r
  over the angle θ of period P (360° for edge direction, curve orientation and hue; 180° for
  line and grating orientation, and for a curve whose preferred curvature is 0; a grating's
  response is first maximised over phase): 0 for a
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

from workers.engine.featurevis.pre_activation import at_pre_activation
from workers.engine.networks import LayerInfo, LoadedNetwork
from workers.engine.stimuli import Family, Placement, blank

# Smallest canvas a cropped measurement uses; every built-in network maps it to a position.
MIN_CANVAS = 32

# What a tuning job reads (LayerTuning.activation).
PRE_ACTIVATION = "pre-activation"
LAYER_OUTPUT = "layer output"

# Called after each forward pass with the number of stimuli measured so far.
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Site:
    """Where a layer is measured: the map position read, on a canvas where the stimuli are
    placed around that position's receptive field."""

    position: tuple[int, int]
    placement: Placement


@dataclass(frozen=True)
class LayerTuning:
    """Responses of the units ``units`` to every family, measured at ``site``.

    ``responses[name]``: [units, *family.shape] float32 on the CPU; ``baseline``: [units].
    ``activation``: "pre-activation" where the layer's output is capped, else "layer output".
    """

    layer: str
    units: list[int]
    site: Site
    families: list[Family]
    responses: dict[str, torch.Tensor]
    baseline: torch.Tensor
    activation: str = LAYER_OUTPUT

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
    """The middle of the layer's map (for even sizes the lower-right of the middle 2×2)."""
    return layer.height // 2, layer.width // 2


def measurement_site(
    layer: LayerInfo, input_size: int, *, scale: float = 1.0, crop: bool = True
) -> Site:
    """The position and the stimuli's disc (its receptive field times ``scale``, at most the
    image) for ``layer``, the disc centred on pixel p · stride (as the dataset-example crops).

    crop: measure on the smallest canvas that holds the position's receptive field with a
    stride to spare on each side (at least ``MIN_CANVAS`` pixels) instead of the whole
    image. A unit's activation depends only on the pixels in its receptive field, so it is
    the same there as at the centre of the full image, at a fraction of the cost. Without a
    known receptive field (TorchScript networks) the disc is the whole image, read at the
    map's middle.
    """
    if layer.receptive_field is None or layer.stride is None:
        y, x = centre_position(layer)
        centre_y = (y + 0.5) * input_size / layer.height - 0.5
        centre_x = (x + 0.5) * input_size / layer.width - 0.5
        disc = Placement(input_size, centre_y, centre_x, float(input_size) * scale)
        return Site((y, x), disc)
    diameter = min(layer.receptive_field * scale, float(input_size))
    reach = (layer.receptive_field - 1) // 2
    index = -(-reach // layer.stride) + 1
    centre = index * layer.stride
    size = max(MIN_CANVAS, -(-(2 * centre + 1) // layer.stride) * layer.stride)
    if not crop or size >= input_size:
        y, x = centre_position(layer)
        disc = Placement(input_size, float(y * layer.stride), float(x * layer.stride), diameter)
        return Site((y, x), disc)
    return Site((index, index), Placement(size, float(centre), float(centre), diameter))


def layer_tuning(
    network: LoadedNetwork,
    layer_name: str,
    families: Sequence[Family],
    site: Site,
    *,
    units: Sequence[int] | None = None,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> LayerTuning:
    """Every family's stimuli through ``network`` to ``layer_name``, batch by batch, on the
    network's device; the chosen units' activations at the site's position (before a capping
    activation, see the module's note)."""
    layer = network.layer(layer_name)
    activation = measured_activation(network, layer_name)
    measured = at_pre_activation(network, layer_name, floored=False)
    chosen = list(range(layer.channels)) if units is None else list(units)
    y, x = site.position
    place = site.placement
    index = torch.tensor(chosen, device=network.device)

    def respond(images):
        maps = measured.activations(images, [layer_name])[layer_name]
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
        site=site,
        families=list(families),
        responses=responses,
        baseline=baseline,
        activation=activation,
    )


def measured_activation(network: LoadedNetwork, layer_name: str) -> str:
    """What a tuning of the layer reads: "pre-activation" where it ends in a capping
    activation, else "layer output"."""
    return PRE_ACTIVATION if layer_name in network.capping_activations else LAYER_OUTPUT


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
        period = family.circular[1]
        # A straight stroke at θ and at θ + 180° is one image: its orientation has period 180.
        if preferred.get("curvature") == 0.0:
            period = 180.0
        selectivity = circular_variance(rectified[selector], family.axes[axis], period)
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
