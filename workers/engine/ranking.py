"""Running top-k per unit: a batch's candidates merged into the k kept so far.

Stable: among equal values the earlier candidate (kept before batch, then batch order) ranks
first, so with batches in dataset order ties go to the lower dataset index. On the CPU a numba
kernel inserts each candidate where it belongs; elsewhere a stable sort does the same.
"""

from typing import NamedTuple

import torch

try:
    from workers.engine import cpu_kernels
except ImportError:  # numba is pinned in requirements.txt; the sort needs nothing more.
    cpu_kernels = None


class Ranked(NamedTuple):
    """Candidates per unit along dim 1: values, dataset indices, flat map positions."""

    values: torch.Tensor
    images: torch.Tensor
    positions: torch.Tensor


def empty_ranked(units: int, device: torch.device) -> Ranked:
    """No candidate yet for any of the units."""
    return Ranked(
        torch.empty(units, 0, device=device),
        torch.empty(units, 0, dtype=torch.long, device=device),
        torch.empty(units, 0, dtype=torch.long, device=device),
    )


def merge_ranked(
    kept: Ranked,
    batch: Ranked,
    k: int,
    *,
    descending: bool,
    fused: bool | None = None,
    in_place: bool = False,
) -> Ranked:
    """The k best per unit of the kept candidates [U, ≤ k] (best first) and a batch's [U, B].

    fused: the numba kernel (True), the sort (False), or the kernel where it applies (None).
    in_place: where the kernel runs and kept already holds k per unit (contiguous), merge
    into kept's own tensors and return kept: no new tensors, no copy of what stays.
    """
    if fused is None:
        fused = _fused_available(kept, batch)
    if fused and not _fused_available(kept, batch):
        raise ValueError("the fused merge needs numba and float32 / int64 candidates on the CPU.")
    if fused:
        return _inserted(kept, batch, k, descending=descending, in_place=in_place)
    return _sorted(kept, batch, k, descending=descending)


def _fused_available(kept: Ranked, batch: Ranked) -> bool:
    tensors = (*kept, *batch)
    return (
        cpu_kernels is not None
        and all(tensor.device.type == "cpu" for tensor in tensors)
        and kept.values.dtype == batch.values.dtype == torch.float32
        and all(tensor.dtype == torch.int64 for tensor in (*kept[1:], *batch[1:]))
    )


def _inserted(kept: Ranked, batch: Ranked, k: int, *, descending: bool, in_place: bool) -> Ranked:
    """The merge by the numba kernel: one insertion per candidate, most rejected at a glance."""
    units = kept.values.shape[0]
    width = min(kept.values.shape[1] + batch.values.shape[1], k)
    if in_place and kept.values.shape[1] == width and all(t.is_contiguous() for t in kept):
        merged = kept
    else:
        merged = Ranked(
            torch.empty(units, width, dtype=kept.values.dtype),
            torch.empty(units, width, dtype=torch.int64),
            torch.empty(units, width, dtype=torch.int64),
        )
    cpu_kernels.set_threads(torch.get_num_threads())
    cpu_kernels.merge_ranked(
        tuple(tensor.numpy() for tensor in kept),
        tuple(tensor.numpy() for tensor in batch),
        tuple(tensor.numpy() for tensor in merged),
        descending,
    )
    return merged


def _sorted(kept: Ranked, batch: Ranked, k: int, *, descending: bool) -> Ranked:
    """The merge by one stable sort of all candidates, on any device."""
    candidates = [torch.cat(fields, dim=1) for fields in zip(kept, batch, strict=True)]
    # A stable sort keeps the earlier candidate first among equal values; topk does not.
    order = candidates[0].sort(dim=1, descending=descending, stable=True).indices[:, :k]
    return Ranked(*(field.gather(1, order) for field in candidates))
