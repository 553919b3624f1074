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


def channel(maps: torch.Tensor, targets: Targets) -> torch.Tensor:
    """Mean of the unit's map over space."""
    return unit_maps(maps, targets.units).mean(dim=(1, 2))


def neuron(maps: torch.Tensor, targets: Targets) -> torch.Tensor:
    """The unit at the centre position; the lower-right one of the centre 2×2 for even sizes."""
    height, width = maps.shape[2:]
    return unit_maps(maps, targets.units)[:, height // 2, width // 2]


def negative(maps: torch.Tensor, targets: Targets) -> torch.Tensor:
    """Minus the channel objective: what the unit responds to least."""
    return -channel(maps, targets)


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
