"""Synthetic stimuli for tuning curves: parametric families drawn in torch at a receptive field.

Every family is a grid of parameters (its axes) and a function that draws any batch of grid
points as [B, 3, H, W] RGB images in [0, 1], the input space of `LoadedNetwork.activations`,
on a mid-grey canvas (0.5) with the stimulus inside a disc the size of the unit's receptive
field (`Placement`). Drawing is analytic with a one-pixel linear ramp at every boundary, so
sub-pixel changes of angle or size change the image, even in a 3-pixel receptive field.

Geometry, shared by all families: angles are degrees counter-clockwise from the image's
rightward horizontal (y up, as a viewer reads it). A line, grating bar, edge or curve "at
orientation θ" runs along direction θ; "left of it" is the side at θ + 90°. Sizes are fractions
of the disc's diameter D (the receptive field times the job's scale), so the same grid means
the same thing at every layer.

Families and their axes (defaults: angle_step 15°, hue_step 30°):
- ``edge``: ``direction`` 0…360 (angle_step): light on the left of the edge, dark on the right.
- ``line``: ``orientation`` 0…180 (angle_step) × ``width`` 1/16, 1/8, 1/4 of D (at least 1 px)
  × ``polarity`` +1 light / −1 dark on grey.
- ``grating``: Gabor patches, ``orientation`` 0…180 (angle_step) × ``frequency`` 1, 2, 3, 4
  cycles per D (those with a period under 2 px dropped) × ``phase`` 0, 90, 180, 270;
  Gaussian envelope σ = D / 4.
- ``curve``: arcs through the centre, ``orientation`` 0…360 (angle_step; the tangent at the
  centre) × ``curvature`` 0, 0.5, 1, 1.5, 2 in units of 1 / D (bending to the left; 0 is a
  straight line, 2 a circle of diameter D) × ``polarity``; stroke width D / 12 (at least 1 px).
- ``colour``: uniform discs, ``hue`` 0…360 (hue_step) × ``value`` 0.5, 1 (saturation 1).
- ``colour_contrast``: two hues split by a line through the centre, ``hue_left`` ×
  ``hue_right`` (hue_step) × ``orientation`` 0, 45, 90, 135.
- ``dot``: centred discs, ``radius`` 1/16 … 8/16 of D (at least 0.5 px) × ``polarity``.
"""

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

GREY = 0.5
GABOR_SIGMA = 0.25
GRATING_FREQUENCIES = (1.0, 2.0, 3.0, 4.0)
GRATING_PHASES = (0.0, 90.0, 180.0, 270.0)
LINE_WIDTHS = (1 / 16, 1 / 8, 1 / 4)
CURVATURES = (0.0, 0.5, 1.0, 1.5, 2.0)
CURVE_WIDTH = 1 / 12
COLOUR_VALUES = (0.5, 1.0)
CONTRAST_ORIENTATIONS = (0.0, 45.0, 90.0, 135.0)
DOT_RADII = tuple(step / 16 for step in range(1, 9))
POLARITIES = (1.0, -1.0)
# The shortest period a grating may have, in pixels: below two it aliases.
MIN_PERIOD = 2.0
MIN_RADIUS = 0.5


@dataclass(frozen=True)
class Placement:
    """Where the stimuli go: a ``size`` × ``size`` canvas, a disc of ``diameter`` pixels
    centred on pixel (``centre_y``, ``centre_x``)."""

    size: int
    centre_y: float
    centre_x: float
    diameter: float


@dataclass(frozen=True)
class Family:
    """A family of stimuli: named axes of parameter values, drawn by ``draw``.

    ``circular``: the axis the selectivity index is a circular variance over and its period
    in degrees; None where the family has no such axis (a peak index instead). ``pooled``:
    axes a tuning curve takes the best response over (a grating's phase).
    """

    name: str
    axes: dict[str, tuple[float, ...]]
    draw: Callable[[dict[str, torch.Tensor], Placement], torch.Tensor]
    circular: tuple[str, float] | None
    pooled: tuple[str, ...] = ()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(values) for values in self.axes.values())

    def __len__(self) -> int:
        return math.prod(self.shape)

    def points(self, start: int, stop: int) -> dict[str, list[float]]:
        """Parameter values of grid points ``start``…``stop`` in row-major order."""
        grid = list(itertools.product(*self.axes.values()))[start:stop]
        return {name: [point[i] for point in grid] for i, name in enumerate(self.axes)}

    def images(
        self, placement: Placement, start: int, stop: int, device: torch.device | str = "cpu"
    ) -> torch.Tensor:
        """Grid points ``start``…``stop`` drawn as [B, 3, size, size] images on ``device``."""
        values = {
            name: torch.tensor(column, dtype=torch.float32, device=device)
            for name, column in self.points(start, stop).items()
        }
        return self.draw(values, placement).clamp(0, 1)


def _coordinates(placement: Placement, batch: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel offsets (u rightward, v upward) from the centre, as [B, 1, H, W] tensors."""
    pixels = torch.arange(placement.size, dtype=torch.float32, device=device)
    u = (pixels - placement.centre_x).view(1, 1, 1, -1)
    v = (placement.centre_y - pixels).view(1, 1, -1, 1)
    shape = (batch, 1, placement.size, placement.size)
    return u.expand(shape), v.expand(shape)


def _column(values: torch.Tensor) -> torch.Tensor:
    return values.view(-1, 1, 1, 1)


def _across(u, v, degrees):
    """Signed distance to the line through the centre at ``degrees``; positive on its left."""
    angle = torch.deg2rad(_column(degrees))
    return v * torch.cos(angle) - u * torch.sin(angle)


def _ramp(distance):
    """Coverage of a boundary at signed ``distance`` pixels: 1 inside, 0 outside, linear
    over the pixel that straddles it."""
    return (distance + 0.5).clamp(0, 1)


def _aperture(u, v, placement):
    return _ramp(placement.diameter / 2 - torch.sqrt(u * u + v * v))


def _luminance(pattern, u, v, placement):
    """A pattern in [−1, 1] inside the aperture as grey-level RGB: 0.5 ± 0.5 · pattern."""
    image = GREY + 0.5 * pattern * _aperture(u, v, placement)
    return image.expand(-1, 3, -1, -1)


def hsv_to_rgb(hue: torch.Tensor, saturation: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """[B] hue (degrees), saturation and value as [B, 3] RGB in [0, 1]."""
    channels = []
    for n in (5.0, 3.0, 1.0):
        k = torch.remainder(n + hue / 60, 6)
        ramp = torch.minimum(torch.minimum(k, 4 - k), torch.ones_like(k)).clamp(min=0)
        channels.append(value - value * saturation * ramp)
    return torch.stack(channels, dim=1)


def _paint(colour, mask):
    """``colour`` [B, 3] where ``mask`` [B, 1, H, W] is 1, grey where it is 0."""
    return GREY + (colour.view(-1, 3, 1, 1) - GREY) * mask


def _draw_edge(values, placement):
    u, v = _coordinates(placement, len(values["direction"]), values["direction"].device)
    pattern = _across(u, v, values["direction"]).clamp(-1, 1)
    return _luminance(pattern, u, v, placement)


def _draw_line(values, placement):
    u, v = _coordinates(placement, len(values["orientation"]), values["orientation"].device)
    width = (_column(values["width"]) * placement.diameter).clamp(min=1.0)
    stroke = _ramp(width / 2 - _across(u, v, values["orientation"]).abs())
    return _luminance(_column(values["polarity"]) * stroke, u, v, placement)


def _draw_grating(values, placement):
    u, v = _coordinates(placement, len(values["orientation"]), values["orientation"].device)
    cycles = _column(values["frequency"]) / placement.diameter
    phase = torch.deg2rad(_column(values["phase"]))
    carrier = torch.cos(2 * math.pi * cycles * _across(u, v, values["orientation"]) + phase)
    sigma = GABOR_SIGMA * placement.diameter
    envelope = torch.exp(-(u * u + v * v) / (2 * sigma * sigma))
    return _luminance(carrier * envelope, u, v, placement)


def _draw_curve(values, placement):
    u, v = _coordinates(placement, len(values["orientation"]), values["orientation"].device)
    across = _across(u, v, values["orientation"])
    curvature = _column(values["curvature"]) / placement.diameter
    # The arc's circle has its centre 1/κ to the left of the centre pixel. The distance to
    # it, ‖p − c‖ − 1/κ, is written multiplied through by κ so that κ → 0 is the straight
    # line's distance (−across) instead of a difference of two huge numbers.
    along = _across(u, v, values["orientation"] - 90)
    squared = along * along + across * across
    norm = torch.sqrt((curvature * along).square() + (curvature * across - 1).square())
    bent = (curvature * squared - 2 * across) / (norm + 1)
    width = max(1.0, CURVE_WIDTH * placement.diameter)
    stroke = _ramp(width / 2 - bent.abs())
    return _luminance(_column(values["polarity"]) * stroke, u, v, placement)


def _draw_colour(values, placement):
    hue = values["hue"]
    u, v = _coordinates(placement, len(hue), hue.device)
    colour = hsv_to_rgb(hue, torch.ones_like(hue), values["value"])
    return _paint(colour, _aperture(u, v, placement))


def _draw_colour_contrast(values, placement):
    left_hue, right_hue = values["hue_left"], values["hue_right"]
    u, v = _coordinates(placement, len(left_hue), left_hue.device)
    ones = torch.ones_like(left_hue)
    left = hsv_to_rgb(left_hue, ones, ones).view(-1, 3, 1, 1)
    right = hsv_to_rgb(right_hue, ones, ones).view(-1, 3, 1, 1)
    side = _ramp(_across(u, v, values["orientation"]))
    colour = right + (left - right) * side
    return GREY + (colour - GREY) * _aperture(u, v, placement)


def _draw_dot(values, placement):
    u, v = _coordinates(placement, len(values["radius"]), values["radius"].device)
    radius = (_column(values["radius"]) * placement.diameter).clamp(min=MIN_RADIUS)
    disc = _ramp(radius - torch.sqrt(u * u + v * v))
    return _luminance(_column(values["polarity"]) * disc, u, v, placement)


def _angles(step: float, period: float) -> tuple[float, ...]:
    return tuple(step * i for i in range(round(period / step)))


def families(
    placement: Placement, *, angle_step: float = 15.0, hue_step: float = 30.0
) -> dict[str, Family]:
    """Every family's grid at this placement (the grating frequencies depend on its size)."""
    directions = _angles(angle_step, 360.0)
    orientations = _angles(angle_step, 180.0)
    hues = _angles(hue_step, 360.0)
    # At least the lowest frequency, even where the disc is too small to resolve it.
    frequencies = tuple(
        f
        for f in GRATING_FREQUENCIES
        if f == GRATING_FREQUENCIES[0] or placement.diameter / f >= MIN_PERIOD
    )
    found = [
        Family("edge", {"direction": directions}, _draw_edge, ("direction", 360.0)),
        Family(
            "line",
            {"orientation": orientations, "width": LINE_WIDTHS, "polarity": POLARITIES},
            _draw_line,
            ("orientation", 180.0),
        ),
        Family(
            "grating",
            {"orientation": orientations, "frequency": frequencies, "phase": GRATING_PHASES},
            _draw_grating,
            ("orientation", 180.0),
            pooled=("phase",),
        ),
        Family(
            "curve",
            {"orientation": directions, "curvature": CURVATURES, "polarity": POLARITIES},
            _draw_curve,
            ("orientation", 360.0),
        ),
        Family("colour", {"hue": hues, "value": COLOUR_VALUES}, _draw_colour, ("hue", 360.0)),
        Family(
            "colour_contrast",
            {"hue_left": hues, "hue_right": hues, "orientation": CONTRAST_ORIENTATIONS},
            _draw_colour_contrast,
            None,
            pooled=("orientation",),
        ),
        Family("dot", {"radius": DOT_RADII, "polarity": POLARITIES}, _draw_dot, None),
    ]
    return {family.name: family for family in found}


FAMILY_NAMES: tuple[str, ...] = (
    "edge",
    "line",
    "grating",
    "curve",
    "colour",
    "colour_contrast",
    "dot",
)


def blank(placement: Placement, device: torch.device | str = "cpu") -> torch.Tensor:
    """The empty grey canvas [1, 3, size, size]: what responses are measured against."""
    return torch.full((1, 3, placement.size, placement.size), GREY, device=device)


def selected(names: Sequence[str], placement: Placement, **grid) -> list[Family]:
    """The named families at ``placement``, in ``FAMILY_NAMES`` order."""
    every = families(placement, **grid)
    return [every[name] for name in FAMILY_NAMES if name in names]
