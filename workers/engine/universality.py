"""Universality: how well every unit of one layer matches every unit of another, over a dataset.

After Li et al. 2015 ("Convergent Learning"): each unit's map is pooled to one number per image
(the mean over its spatial positions), and every pair (a, b) of units of the two layers is
scored by the Pearson correlation of those numbers across the dataset. The pass streams the
dataset and keeps only sufficient statistics on the device, in float64: the count, each unit's
sum and sum of squares, and the [A, B] matrix of cross products (one matmul per batch). Memory
is O(A · B), whatever the number of images.

The sums are of activations minus a per-unit shift (the first batch's mean): correlation does
not change under a shift, and shifted sums lose far less to cancellation when a unit's mean
is large against its spread.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from workers.engine.networks import LoadedNetwork

# A unit whose pooled activation has a standard deviation at most this fraction of its mean
# (float32 noise is ~6e-8 relative) is constant: it has no correlation with anything.
CONSTANT_RELATIVE_SPREAD = 1e-6
# Rounding left over in a float64 centred sum of squares, relative to the uncentred one.
CANCELLATION = 1e-12


@dataclass(frozen=True)
class LayerSide:
    """One of the two layers compared: a network and the name of one of its layers."""

    network: LoadedNetwork
    layer: str


@dataclass(frozen=True)
class LayerCorrelation:
    """Pearson correlations between the pooled activations of two layers' units, on the CPU.

    `correlation[a, b]` is 0 wherever unit a or b is constant (see `constant_first`,
    `constant_second`); there is no NaN anywhere.
    """

    images: int
    correlation: torch.Tensor  # [A, B] float64
    constant_first: torch.Tensor  # [A] bool
    constant_second: torch.Tensor  # [B] bool
    mean_first: torch.Tensor  # [A] float64, the pooled activation's mean over the images
    mean_second: torch.Tensor  # [B] float64


@dataclass(frozen=True)
class Matches:
    """Each unit's best matches in the other layer, highest correlation first.

    `units[u, j]` is -1 (and `r[u, j]` 0) where there is no j-th match: the unit is constant,
    or the other layer has fewer than j + 1 units that are not.
    """

    units: torch.Tensor  # [U, k] long
    r: torch.Tensor  # [U, k] float64


class PairMoments:
    """Running sufficient statistics for the correlation of every pair (a, b) of units."""

    def __init__(self, first_units: int, second_units: int, device: torch.device | str):
        options = {"dtype": torch.float64, "device": device}
        self.count = 0
        self.shift_first = torch.zeros(first_units, **options)
        self.shift_second = torch.zeros(second_units, **options)
        self.sum_first = torch.zeros(first_units, **options)
        self.sum_second = torch.zeros(second_units, **options)
        self.squares_first = torch.zeros(first_units, **options)
        self.squares_second = torch.zeros(second_units, **options)
        self.cross = torch.zeros(first_units, second_units, **options)

    def add(self, first: torch.Tensor, second: torch.Tensor):
        """Fold in one batch: first [N, A] and second [N, B], row i the same image in both."""
        if first.shape[0] != second.shape[0]:
            raise ValueError(
                f"both layers must see the same images; got {first.shape[0]} and "
                f"{second.shape[0]} rows."
            )
        if not first.shape[0]:
            return
        first, second = first.double(), second.double()
        if self.count == 0:
            self.shift_first = first.mean(dim=0)
            self.shift_second = second.mean(dim=0)
        first = first - self.shift_first
        second = second - self.shift_second
        self.count += first.shape[0]
        self.sum_first += first.sum(dim=0)
        self.sum_second += second.sum(dim=0)
        self.squares_first += first.square().sum(dim=0)
        self.squares_second += second.square().sum(dim=0)
        self.cross.addmm_(first.T, second)

    def correlation(self) -> LayerCorrelation:
        """The correlation matrix and constant units from what was added, moved to the CPU."""
        count = max(self.count, 1)
        centred_first, constant_first = _centred_squares(
            self.sum_first, self.squares_first, self.shift_first, count
        )
        centred_second, constant_second = _centred_squares(
            self.sum_second, self.squares_second, self.shift_second, count
        )
        covariance = self.cross - torch.outer(self.sum_first, self.sum_second) / count
        scale = torch.outer(centred_first, centred_second).sqrt()
        varying = torch.outer(~constant_first, ~constant_second)
        correlation = torch.where(
            varying, covariance / torch.where(varying, scale, 1.0), 0.0
        ).clamp_(-1.0, 1.0)
        return LayerCorrelation(
            images=self.count,
            correlation=correlation.cpu(),
            constant_first=constant_first.cpu(),
            constant_second=constant_second.cpu(),
            mean_first=(self.shift_first + self.sum_first / count).cpu(),
            mean_second=(self.shift_second + self.sum_second / count).cpu(),
        )


def _centred_squares(
    sums: torch.Tensor, squares: torch.Tensor, shift: torch.Tensor, count: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Σ(x - mean)² per unit (never negative) and whether the unit is constant."""
    centred = (squares - sums.square() / count).clamp_(min=0.0)
    mean = shift + sums / count
    tolerance = CANCELLATION * squares + count * (CONSTANT_RELATIVE_SPREAD * mean).square()
    return centred, centred <= tolerance


def best_matches(
    correlation: torch.Tensor, constant: torch.Tensor, constant_other: torch.Tensor, k: int
) -> Matches:
    """Each row unit's k best column units by correlation (highest r first; ties: lower index).

    Constant units have no matches, and constant column units are never a match.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}.")
    rows, columns = correlation.shape
    taken = min(k, columns)
    # Below every correlation, so that constant columns sort last.
    scores = correlation.masked_fill(constant_other.view(1, -1), -2.0)
    # A stable descending sort keeps the lower index first among equal correlations.
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :taken]
    r = torch.gather(correlation, 1, order)
    missing = constant.view(-1, 1) | constant_other[order]
    units = torch.full((rows, k), -1, dtype=torch.long)
    values = torch.zeros(rows, k, dtype=torch.float64)
    units[:, :taken] = order.masked_fill(missing, -1)
    values[:, :taken] = r.masked_fill(missing, 0.0).double()
    return Matches(units=units, r=values)


def _fitted(images: torch.Tensor, size: int) -> torch.Tensor:
    """Images resized (bilinear, antialiased) to size × size for a network with that input."""
    if images.shape[-2:] == (size, size):
        return images
    return F.interpolate(
        images, size=(size, size), mode="bilinear", antialias=True, align_corners=False
    ).clamp_(0.0, 1.0)


def pooled_activations(
    network: LoadedNetwork, layer_names: list[str], images: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Each named layer's maps averaged over positions: [B, C] float64, for [B, 3, H, W] images.

    The images are resized to the network's input size first, so that two networks with
    different input sizes see the same pictures.
    """
    fitted = _fitted(images.to(network.device), network.input_size)
    maps = network.activations(fitted, layer_names)
    return {name: maps[name].mean(dim=(2, 3), dtype=torch.float64) for name in layer_names}


def layer_correlation(
    first: LayerSide,
    second: LayerSide,
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    device: torch.device | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> LayerCorrelation:
    """The correlation of every pair of units of two layers over the same images.

    batches: (dataset indices [B], images [B, 3, H, W] in [0, 1]), e.g. `datasets.batches`;
    each network gets them resized to its own input size and applies its own preprocessing.
    One forward pass per network per batch, in inference mode, only as deep as its layer
    (one pass in all when both layers belong to the same network object).
    device: where both networks run and the statistics are kept (the networks move there);
    default the first network's device. progress(images seen) is called after each batch (a
    job cancels the pass by raising from it).
    """
    first_info = first.network.layer(first.layer)
    second_info = second.network.layer(second.layer)
    target = torch.device(device) if device is not None else first.network.device
    for network in (first.network, second.network):
        if network.device != target:
            network.to(target)
    moments = PairMoments(first_info.channels, second_info.channels, target)
    same_network = first.network is second.network
    with torch.inference_mode():
        for _indices, images in batches:
            if same_network:
                pooled = pooled_activations(first.network, [first.layer, second.layer], images)
                first_pooled, second_pooled = pooled[first.layer], pooled[second.layer]
            else:
                first_pooled = pooled_activations(first.network, [first.layer], images)[first.layer]
                second_pooled = pooled_activations(second.network, [second.layer], images)[
                    second.layer
                ]
            moments.add(first_pooled, second_pooled)
            if progress is not None:
                progress(moments.count)
    return moments.correlation()
