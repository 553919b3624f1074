"""Per (image, unit): the spatial max and min of its activation map with their positions, the
sum, and how many positions are above 0.

With eager PyTorch on a CPU that is five to six memory-bound passes over every map, more time
than the forward that made them; the numba kernel of `cpu_kernels` reads each map once. The
PyTorch path serves GPUs (bandwidth-rich, so extra passes matter less), other dtypes, and
machines without numba. Both give equal maxima, minima, positions and counts; sums agree to
float32 rounding.
"""

from typing import NamedTuple

import numpy as np
import torch

try:
    from workers.engine import cpu_kernels
except ImportError:  # numba is pinned in requirements.txt; PyTorch still does the job without it.
    cpu_kernels = None


class MapStatistics(NamedTuple):
    """Statistics of [B, C, H, W] maps, each [C, B] (units first, as the running top-k keeps
    them); positions are flat (y · W + x), the first in row-major order among equal values."""

    maximum: torch.Tensor
    argmax: torch.Tensor  # int64
    minimum: torch.Tensor
    argmin: torch.Tensor  # int64
    sum: torch.Tensor  # float64
    active: torch.Tensor  # int64, positions above 0


def fused_available(maps: torch.Tensor) -> bool:
    """Whether the one-pass kernel handles these maps: float32 on the CPU, with numba."""
    return cpu_kernels is not None and maps.device.type == "cpu" and maps.dtype == torch.float32


def map_statistics(
    maps: torch.Tensor,
    *,
    bars: tuple[torch.Tensor, torch.Tensor] | None = None,
    fused: bool | None = None,
    out: MapStatistics | None = None,
) -> MapStatistics:
    """The statistics of every map of `maps` [B, C, H, W] (NaN-free, at least one position).

    bars: per unit [C], a max to beat and a min to undercut (the k-th kept of a full top-k
    and bottom-k); a map's argmax is only given where its max beats the first, its argmin
    where its min undercuts the second, and is -1 elsewhere. The positions that could still
    enter a top-k are all there, and the kernel skips most searches.
    fused: use the one-pass kernel (True), PyTorch (False), or the kernel where it applies
    (None, the default).
    out: [C, B] tensors of the fields' dtypes (`empty_statistics`) to write into and return,
    instead of new ones; the kernel writes fastest into the transposes of [B, C] rows.
    """
    if maps.dim() != 4 or maps.shape[2] * maps.shape[3] == 0:
        raise ValueError(f"maps must be [B, C, H, W] with H, W ≥ 1; got {tuple(maps.shape)}.")
    if fused is None:
        fused = fused_available(maps)
    if fused and not fused_available(maps):
        raise ValueError(
            f"the fused kernel needs numba and float32 maps on the CPU; got {maps.dtype} on "
            f"{maps.device.type}{'' if cpu_kernels else ', numba not installed'}."
        )
    if out is None:
        out = empty_statistics(maps.shape[1], maps.shape[0], maps.dtype, maps.device)
    # A NaN anywhere makes its map's sum NaN; the kernel's max and min assume none.
    if fused and not np.isnan(_fused(maps, bars, out).numpy()).any():
        return out
    for field, value in zip(out, _reduced(maps, bars), strict=True):
        field.copy_(value)
    return out


def empty_statistics(
    channels: int, batch: int, dtype: torch.dtype, device: torch.device | str = "cpu"
) -> MapStatistics:
    """Uninitialised [C, B] statistics, each the transpose of a [B, C] tensor: laid out as
    the kernel writes them (image by image, the order it reads the maps)."""

    def empty(field_dtype):
        return torch.empty(batch, channels, dtype=field_dtype, device=device).T

    return MapStatistics(
        maximum=empty(dtype),
        argmax=empty(torch.int64),
        minimum=empty(dtype),
        argmin=empty(torch.int64),
        sum=empty(torch.float64),
        active=empty(torch.int64),
    )


def clamped_statistics(
    inputs: torch.Tensor,
    lower: float,
    upper: float,
    *,
    bars: tuple[torch.Tensor, torch.Tensor] | None = None,
    out: MapStatistics | None = None,
) -> tuple[torch.Tensor, MapStatistics] | None:
    """`inputs` [B, C, H, W] clamped to [lower, upper] (a ReLU: 0, inf; a ReLU6: 0, 6), and the
    `map_statistics` of the result (written into `out` when given), from one read of
    `inputs` by the numba kernel.

    The activation and the statistics of its map cost a little more than the activation
    alone: the map is reduced as it is written instead of being read again after. The clamped map
    equals `torch.clamp`'s (a zero may come out as -0.0, which compares equal). None where
    the kernel does not apply (see `fused_available`) or the map holds a NaN: the caller
    then runs the activation and `map_statistics` as usual.
    """
    if inputs.dim() != 4 or inputs.shape[2] * inputs.shape[3] == 0:
        raise ValueError(f"inputs must be [B, C, H, W] with H, W ≥ 1; got {tuple(inputs.shape)}.")
    if not fused_available(inputs) or inputs.requires_grad:
        return None
    inputs = inputs.detach().contiguous()
    clamped = torch.empty_like(inputs)
    batch, channels = inputs.shape[:2]
    if out is None:
        out = empty_statistics(channels, batch, inputs.dtype)
    raw_sums = np.empty(batch * channels, dtype=np.float64)
    clamp = (
        clamped.view(batch, channels, -1).numpy(),
        np.float32(lower),
        np.float32(upper),
        raw_sums,
    )
    _fused(inputs, bars, out, clamp=clamp)
    if np.isnan(raw_sums).any():
        return None
    return clamped, out


def _fused(
    maps: torch.Tensor,
    bars: tuple[torch.Tensor, torch.Tensor] | None,
    out: MapStatistics,
    clamp=None,
) -> torch.Tensor:
    """One read of each map by the numba kernel, on as many threads as PyTorch uses, into
    `out`; with `clamp` (see `clamped_statistics`) the kernel also writes the clamped maps.
    Returns the sums, [B, C], for the caller's NaN check."""
    batch, channels = maps.shape[:2]
    cpu_kernels.set_threads(torch.get_num_threads())
    # The kernel writes [image, unit]: the transposes of out's [C, B] fields.
    cpu_kernels.map_statistics(
        maps.detach().contiguous().view(batch, channels, -1).numpy(),
        None if bars is None else tuple(bar.to(maps.dtype).contiguous().numpy() for bar in bars),
        *(field.T.numpy() for field in out),
        clamp,
    )
    return out.sum.T


def _reduced(maps: torch.Tensor, bars: tuple[torch.Tensor, torch.Tensor] | None) -> MapStatistics:
    """The same statistics from PyTorch reductions, one pass each, on any device and dtype."""
    flat = maps.flatten(2).transpose(0, 1)
    maximum, argmax = flat.max(dim=2)
    minimum, argmin = flat.min(dim=2)
    if bars is not None:
        argmax = argmax.masked_fill(maximum <= bars[0][:, None], -1)
        argmin = argmin.masked_fill(minimum >= bars[1][:, None], -1)
    return MapStatistics(
        maximum=maximum,
        argmax=argmax,
        minimum=minimum,
        argmin=argmin,
        sum=flat.sum(dim=2, dtype=torch.float64),
        active=(flat > 0).sum(dim=2),
    )
