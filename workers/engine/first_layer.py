"""First-layer weights drawn as RGB images, as in the Circuits articles."""

import numpy as np
import torch

from workers.engine.images import UnitImage
from workers.engine.networks import LoadedNetwork

NORMALIZATIONS = ("unit", "layer")
MAX_PIXELS_PER_WEIGHT = 64


def _scales(filters: torch.Tensor, normalize: str) -> torch.Tensor:
    """Largest |weight| per unit ("unit") or over the whole layer ("layer"), shaped [C,1,1,1]."""
    per_unit = filters.abs().amax(dim=(1, 2, 3), keepdim=True)
    scales = per_unit if normalize == "unit" else per_unit.amax().expand_as(per_unit)
    # An all-zero filter is drawn flat grey instead of dividing by zero.
    return torch.where(scales > 0, scales, torch.ones_like(scales))


def _to_rgb(weights: torch.Tensor, pixels_per_weight: int) -> np.ndarray:
    """A [3, k, k] tensor in [0, 1] as an upscaled k·p × k·p × 3 uint8 image."""
    pixels = np.rint(weights.clamp(0, 1).permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    return pixels.repeat(pixels_per_weight, axis=0).repeat(pixels_per_weight, axis=1)


def _stats(weights: torch.Tensor) -> dict:
    """L2 norm, largest |weight| and per-colour mean of one unit's filter."""
    return {
        "l2_norm": float(weights.norm()),
        "max_abs": float(weights.abs().max()),
        "mean_rgb": [float(value) for value in weights.mean(dim=(1, 2))],
    }


def first_layer_weight_images(
    network: LoadedNetwork,
    layer_name: str,
    *,
    pixels_per_weight: int = 8,
    normalize: str = "unit",
) -> list[UnitImage]:
    """Every unit's RGB filter drawn as 0.5 + 0.5·w / max|w|, enlarged nearest-neighbour.

    normalize: "unit" scales each filter by its own max|w| (shows every unit's pattern);
    "layer" uses one max for the layer (shows which units have strong weights).
    """
    if normalize not in NORMALIZATIONS:
        raise ValueError(
            f"normalize must be one of {', '.join(NORMALIZATIONS)}; got {normalize!r}."
        )
    if (
        not isinstance(pixels_per_weight, int)
        or not 1 <= pixels_per_weight <= MAX_PIXELS_PER_WEIGHT
    ):
        raise ValueError(
            f"pixels_per_weight must be 1 to {MAX_PIXELS_PER_WEIGHT}; got {pixels_per_weight}."
        )
    filters = network.input_filters(layer_name).detach().float().cpu()
    shown = 0.5 + 0.5 * filters / _scales(filters, normalize)
    return [
        UnitImage(index=index, rgb=_to_rgb(shown[index], pixels_per_weight), stats=_stats(unit))
        for index, unit in enumerate(filters)
    ]
