"""Activation distributions: how a unit's spatial maximum spreads over a dataset's images.

Made from the per-image spatial maxima the dataset-examples pass keeps (`LayerExamples.maxima`
in memory, or a `MaximaSpool` on disk for a large dataset), so they cost no second pass over
the images: a fixed-bin histogram per unit, and for a dataset whose images have classes, each
class's mean. A spool is read in chunks (twice for histograms: range, then bins), giving
exactly what the same values in one tensor give.
"""

from collections.abc import Iterable
from typing import NamedTuple

import torch

from workers.engine.spool import MaximaSpool

HISTOGRAM_BINS = 32
TOP_CLASSES = 5


class Histograms(NamedTuple):
    """Per unit [C]: the range of its values and how many fall in each of `bins` equal bins.

    Bin i holds the values in [low + i·w, low + (i + 1)·w), w = (high - low) / bins, the last
    bin also `high`. Where every value is the same (a unit that never fired and is 0 on every
    image), the range is that value ± 0.5, as numpy.histogram does, and all fall in the
    middle bin. NaN values are counted nowhere; a unit without a finite value has low and
    high NaN and no counts.
    """

    low: torch.Tensor  # [C] float64
    high: torch.Tensor  # [C] float64
    counts: torch.Tensor  # [C, bins] int64


Maxima = torch.Tensor | MaximaSpool


def _chunks(maxima: Maxima) -> Iterable[torch.Tensor]:
    """[C, n] pieces of the values in image order: a tensor whole, a spool chunk by chunk."""
    return (maxima,) if isinstance(maxima, torch.Tensor) else maxima.chunks()


def _units(maxima: Maxima) -> int:
    return maxima.shape[0] if isinstance(maxima, torch.Tensor) else maxima.units


def histograms(maxima: Maxima, *, bins: int = HISTOGRAM_BINS) -> Histograms:
    """Each unit's histogram of its values `maxima` [C, N] (one per image), or those a spool
    holds."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1; got {bins}.")
    units = _units(maxima)
    low = torch.full((units,), torch.inf, dtype=torch.float64)
    high = torch.full((units,), -torch.inf, dtype=torch.float64)
    # Each chunk as [images, units] (the spool's layout: reductions over contiguous rows).
    for chunk in _chunks(maxima):
        values = chunk.T.double()
        finite = torch.isfinite(values)
        low = torch.minimum(low, torch.where(finite, values, torch.inf).amin(dim=0))
        high = torch.maximum(high, torch.where(finite, values, -torch.inf).amax(dim=0))
    empty = low == torch.inf
    flat = low == high
    low = torch.where(flat, low - 0.5, low).masked_fill(empty, torch.nan)
    high = torch.where(flat, high + 0.5, high).masked_fill(empty, torch.nan)
    span = high - low
    first_bins = torch.arange(units) * bins
    counts = torch.zeros(units * bins, dtype=torch.long)
    for chunk in _chunks(maxima):
        values = chunk.T.double()
        scaled = (values - low) / span * bins
        bin_of = scaled.nan_to_num(0).floor().clamp(0, bins - 1).long() + first_bins
        counts += torch.bincount(bin_of[torch.isfinite(values)], minlength=units * bins)
    counts = counts.view(units, bins)
    return Histograms(low=low, high=high, counts=counts)


class ClassMeans(NamedTuple):
    """Per unit and class: the mean of the unit's values over the class's images."""

    means: torch.Tensor  # [C, K] float64, NaN for a class without images
    counts: torch.Tensor  # [K] int64, the images of each class


def class_means(maxima: Maxima, classes: torch.Tensor, *, count: int) -> ClassMeans:
    """Each unit's mean value `maxima` [C, N] (or those a spool holds) per class; `classes`
    [N] holds each image's class, 0 to count - 1."""
    sums = torch.zeros(_units(maxima), count, dtype=torch.float64)
    start = 0
    for chunk in _chunks(maxima):
        # In image order, chunk after chunk: the sums add in the same order as in one piece.
        sums.index_add_(1, classes[start : start + chunk.shape[1]], chunk.double())
        start += chunk.shape[1]
    if start != len(classes):
        raise ValueError(f"{len(classes)} classes for {start} images.")
    images = torch.bincount(classes, minlength=count)
    return ClassMeans(means=sums / images, counts=images)


def top_classes(means: ClassMeans, unit: int, *, k: int = TOP_CLASSES) -> list[tuple[int, float]]:
    """The k classes with the highest mean for `unit`, as (class, mean), highest first;
    equal means in class order; classes without images left out."""
    row = means.means[unit]
    ranked = sorted(
        (position for position in range(row.shape[0]) if means.counts[position] > 0),
        key=lambda position: (-float(row[position]), position),
    )
    return [(position, float(row[position])) for position in ranked[:k]]
