"""Objectives to maximise, one value per image of a batch, each from its own image's maps.

Every objective takes the target layer's maps [B, C, H, W] and the batch's `Targets` and
returns [B]. The renderer minimises minus their sum, which for an eval-mode network is the
same as optimising every image on its own; only diversity couples images, and only those of
one unit's group.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Lucid's notebook weighs its diversity term 1e2 against the channel objective (mean over a
# group of 4 images). Ours sums the group's channel terms instead of averaging them, so the
# penalty is multiplied by the group size too (see `diversity`), keeping Lucid's balance.
DIVERSITY_WEIGHT = 1e2
# The channel objective reads each map above its own top-decile value: the mean of
# max(map, q) with q the map's 90th percentile, taken without gradient, so the gradient
# reaches only the tenth of the positions where the unit responds most. Lucid's spatial mean
# rewards every position alike; where a unit's receptive field is small against the image
# (MobileNetV2's features.0 and features.1 see 3 and 7 px of 128) the pattern that excites
# one position conflicts with its neighbours', and the mean is won by broad fields of the
# unit's best colour rather than by the pattern (bench/RENDER.md, "Quality"). A quantile of
# 0.5 would be the median floor of pre_activation.py, which a capped layer's maps already
# carry and which this floor lies above.
CHANNEL_QUANTILE = 0.9


@dataclass(frozen=True)
class Targets:
    """What each image of a batch optimises.

    units: [B] channel index per image.
    group: images per unit in a row of the batch, for "diversity" only (else 1).
    """

    units: torch.Tensor
    group: int = 1


def unit_maps(maps: torch.Tensor, units: torch.Tensor) -> torch.Tensor:
    """[B, H, W]: image b's map of unit units[b]."""
    return maps[torch.arange(maps.shape[0], device=maps.device), units]


def floored_mean(own: torch.Tensor) -> torch.Tensor:
    """[B]: mean over space of each map of [B, H, W] floored at its CHANNEL_QUANTILE
    (the quantile without gradient)."""
    floor = own.detach().flatten(1).quantile(CHANNEL_QUANTILE, dim=1)
    return torch.maximum(own, floor[:, None, None]).mean(dim=(1, 2))


def channel(maps: torch.Tensor, targets: Targets) -> torch.Tensor:
    """Mean of the unit's map over space, floored at the map's top decile (CHANNEL_QUANTILE):
    the unit's response where it responds most."""
    return floored_mean(unit_maps(maps, targets.units))


def neuron(maps: torch.Tensor, targets: Targets) -> torch.Tensor:
    """The unit at the centre position; the lower-right one of the centre 2×2 for even sizes."""
    height, width = maps.shape[2:]
    return unit_maps(maps, targets.units)[:, height // 2, width // 2]


def negative(maps: torch.Tensor, targets: Targets) -> torch.Tensor:
    """Minus the spatial mean of the unit's map (Lucid's negative channel): what the unit
    responds to least.

    Not floored at a quantile: minus the floored channel objective moves only the top decile,
    which on a near-grey start image can be positions whose value the image hardly changes
    (features.1 unit 3 at 32 px did not move in 17 steps), and the channel objective of
    minus the map passes no gradient on a capped layer, whose lower half is floored flat at
    the median (pre_activation.py).
    """
    return -unit_maps(maps, targets.units).mean(dim=(1, 2))


def normalised_grams(maps: torch.Tensor) -> torch.Tensor:
    """[B, C·C]: each image's Gram matrix of channels over positions, L2-normalised."""
    flat = maps.flatten(2)
    grams = flat @ flat.transpose(1, 2)
    return F.normalize(grams.flatten(1), dim=1, eps=1e-10)


def group_similarity(maps: torch.Tensor, group: int) -> torch.Tensor:
    """[B]: sum of the dot products of each image's normalised Gram with the rest of its group.

    Groups are runs of `group` consecutive images.
    """
    grams = normalised_grams(maps).unflatten(0, (-1, group))
    similarity = grams @ grams.transpose(1, 2)
    others = similarity.sum(dim=2) - similarity.diagonal(dim1=1, dim2=2)
    return others.flatten()


def diversity(maps: torch.Tensor, targets: Targets) -> torch.Tensor:
    """Channel objective minus the weighted similarity of the image to the rest of its group.

    Summed over a group of N images this is N × (Lucid's "channel − weight × diversity"):
    the mean channel objective minus the weight times the sum over ordered pairs of the
    normalised Gram dot products divided by N.
    """
    penalty = DIVERSITY_WEIGHT * group_similarity(maps, targets.group)
    return channel(maps, targets) - penalty


OBJECTIVES: dict[str, Callable[[torch.Tensor, Targets], torch.Tensor]] = {
    "channel": channel,
    "neuron": neuron,
    "negative": negative,
    "diversity": diversity,
}
