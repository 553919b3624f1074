"""Activation distributions: how a unit's spatial maximum spreads over a dataset's images.

Made from the per-image spatial maxima the dataset-examples pass keeps (`LayerExamples.maxima`),
so they cost no second pass: a fixed-bin histogram per unit, and for a dataset whose images
have classes, each class's mean.
"""

from typing import NamedTuple

import torch

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


def histograms(maxima: torch.Tensor, *, bins: int = HISTOGRAM_BINS) -> Histograms:
    """Each unit's histogram of its values `maxima` [C, N] (one per image)."""
    if bins < 1:
        raise ValueError(f"bins must be at least 1; got {bins}.")
    values = maxima.double()
    finite = torch.isfinite(values)
    low = torch.where(finite, values, torch.inf).amin(dim=1)
    high = torch.where(finite, values, -torch.inf).amax(dim=1)
    flat = low == high
    low = torch.where(flat, low - 0.5, low)
    high = torch.where(flat, high + 0.5, high)
    empty = ~finite.any(dim=1)
    low = low.masked_fill(empty, torch.nan)
    high = high.masked_fill(empty, torch.nan)
    scaled = (values - low[:, None]) / (high - low)[:, None] * bins
    bin_of = scaled.nan_to_num(0).floor().clamp(0, bins - 1).long()
    counts = torch.zeros(values.shape[0], bins, dtype=torch.long)
    counts.scatter_add_(1, bin_of, finite.long())
    return Histograms(low=low, high=high, counts=counts)


class ClassMeans(NamedTuple):
    """Per unit and class: the mean of the unit's values over the class's images."""

    means: torch.Tensor  # [C, K] float64, NaN for a class without images
    counts: torch.Tensor  # [K] int64, the images of each class


def class_means(maxima: torch.Tensor, classes: torch.Tensor, *, count: int) -> ClassMeans:
    """Each unit's mean value `maxima` [C, N] per class; `classes` [N] holds each image's
    class, 0 to count - 1."""
    sums = torch.zeros(maxima.shape[0], count, dtype=torch.float64)
    sums.index_add_(1, classes, maxima.double())
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
