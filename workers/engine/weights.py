"""Weights between the units of two layers ("Visualizing Weights", Voss et al. 2021).

The weight from unit a of a source layer to unit b of a later target layer is a spatial
kernel: how b at one position responds to a at each nearby position. It is read from the
network's linear version (`linearised`: ReLU → identity, max-pool → average pool, LRN →
identity, batch norm kept), where the target's output equals its pre-activation, as the
gradient of b's centre value with respect to a zero source map (`connections`). Across one
convolution plus batch norm that is the kernel times the norm's scale ("direct" weights);
across more layers it is the product of their weights ("expanded" weights).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from workers.engine.architectures import BUILTIN
from workers.engine.connections import (
    Connection,
    connection_kernels,
    kernel_extent,
    trace_connection,
)
from workers.engine.errors import UnsupportedLayer
from workers.engine.linearised import linearised
from workers.engine.networks import MIN_INPUT_SIZE, LayerInfo, LoadedNetwork

UNITS_PER_PASS = 128


@dataclass(frozen=True)
class WeightsResult:
    """The strongest weights into some units of `layer` from every unit of `source_layer`.

    mode: "direct" or "expanded" (see `connections.Connection`). Row i of each tensor belongs
    to unit `units[i]` of `layer`. indices [U, k]: source units by decreasing L2 norm of
    their kernel; norms [U, k]: those norms; kernels [U, k, kh, kw]; norm_matrix
    [U, C_source], float32: the L2 norm of every kernel, for `outgoing`.
    """

    layer: str
    source_layer: str
    mode: str
    units: torch.Tensor
    indices: torch.Tensor
    norms: torch.Tensor
    kernels: torch.Tensor
    norm_matrix: torch.Tensor


def kernel_norms(kernels: torch.Tensor) -> torch.Tensor:
    """L2 norm [U, C] of each kernel of a [U, C, kh, kw] tensor."""
    return kernels.flatten(start_dim=2).norm(dim=2)


def strongest(
    kernels: torch.Tensor, norms: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per row, the k kernels of largest norm: (indices [U, k], norms [U, k], kernels)."""
    top = norms.topk(k, dim=1)
    rows = torch.arange(len(kernels), device=kernels.device).unsqueeze(1)
    return top.indices, top.values, kernels[rows, top.indices]


def outgoing(norms: torch.Tensor, a: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The k rows of a [U, C_source] norm matrix that source unit `a` feeds most strongly.

    Returns (row indices, norms), strongest first; rows are target units when the matrix
    covers the whole target layer (see WeightsResult.units otherwise).
    """
    top = norms[:, a].topk(min(k, len(norms)))
    return top.indices, top.values


def kernel_size(target: LayerInfo, source: LayerInfo) -> int:
    """Side of the kernels from `source` into `target`, from the receptive-field table.

    The target's field is rf_target − rf_source pixels wider, and source positions lie
    stride_source pixels apart: (rf_target − rf_source) / stride_source + 1 positions.
    """
    if None in (target.receptive_field, source.receptive_field, source.stride):
        raise UnsupportedLayer(
            f"The receptive fields of {source.name} and {target.name} are unknown (a TorchScript "
            "network), so the weights between them cannot be located."
        )
    return (target.receptive_field - source.receptive_field) // source.stride + 1


def _fitting_connection(
    network: LoadedNetwork,
    source: LayerInfo,
    target: LayerInfo,
    *,
    size: int,
    paths: dict[str, str],
) -> tuple[Connection, torch.Tensor]:
    """The connection traced at the smallest zero input where the kernel is whole, and that input.

    Input sides are multiples of the target's stride, so every map halves evenly, and start
    where the source map is `size` positions wide. The traced extent is exact, so a whole
    `size`×`size` extent means no border or padding reached the centre unit.
    """
    first = max(MIN_INPUT_SIZE, math.ceil(source.stride * size / target.stride) * target.stride)
    # Two spare source positions on each side, and a target step for alignment, are more
    # than the built-in architectures need (their tests trace every adjacent pair).
    last = first + 4 * source.stride + 2 * target.stride
    for side in range(first, last + 1, target.stride):
        inputs = network.preprocess(torch.zeros(1, 3, side, side, device=network.device))
        connection = trace_connection(
            network.module, inputs, source=paths[source.name], target=paths[target.name]
        )
        if kernel_extent(connection) == (size, size):
            return connection, inputs
    raise UnsupportedLayer(
        f"No input gives the units of {target.name} the whole {size}×{size} kernels on "
        f"{source.name} that the receptive fields predict."
    )


def _source_layer(network: LoadedNetwork, target: LayerInfo, name: str | None) -> LayerInfo:
    """The named source layer, by default the studied layer just before the target."""
    if name is None:
        if target.order == 0:
            raise UnsupportedLayer(
                f"{target.name} is computed from the image: its weights are RGB filters, drawn "
                "by first_layer_weight_images."
            )
        return network.layers[target.order - 1]
    source = network.layer(name)
    if source.order >= target.order:
        raise ValueError(f"source_layer must come before {target.name}; {name} does not.")
    return source


def _module_paths(network: LoadedNetwork) -> dict[str, str]:
    """Submodule path of every studied layer of a built-in network."""
    for architecture in BUILTIN.values():
        if type(network.module) is architecture.build:
            return {layer.name: layer.module for layer in architecture.layers}
    raise UnsupportedLayer("Weights between units are read from built-in architectures only.")


def _units(target: LayerInfo, units: Sequence[int] | None) -> torch.Tensor:
    """The requested target units as a tensor, by default all of them."""
    if units is None:
        return torch.arange(target.channels)
    chosen = torch.as_tensor(units, dtype=torch.long)
    if chosen.dim() != 1 or not len(chosen):
        raise ValueError("units must be a non-empty list of unit indices.")
    if chosen.min() < 0 or chosen.max() >= target.channels:
        raise ValueError(f"units of {target.name} are 0 to {target.channels - 1}.")
    return chosen


def unit_weights(
    network: LoadedNetwork,
    layer: str,
    *,
    source_layer: str | None = None,
    k: int = 50,
    units: Sequence[int] | None = None,
    units_per_pass: int = UNITS_PER_PASS,
) -> WeightsResult:
    """The k strongest weights into units of `layer` from the units of an earlier layer.

    source_layer: by default the studied layer just before `layer`. A first layer reads the
    image and is refused: its weights are RGB filters (first_layer_weight_images).
    units: the units of `layer` to compute, by default all; `units_per_pass` of them share
    one forward and backward, which bounds memory.
    The kernels are read at the centre of the smallest zero input that gives the centre unit
    its whole kernel, clear of every border and padding (checked on each call).
    """
    target = network.layer(layer)
    source = _source_layer(network, target, source_layer)
    size = kernel_size(target, source)
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}.")
    rows = _units(target, units)
    paths = _module_paths(network)
    chunks = []
    with linearised(network.module):
        connection, inputs = _fitting_connection(network, source, target, size=size, paths=paths)
        for chunk in rows.split(units_per_pass):
            kernels = connection_kernels(
                network.module,
                inputs,
                connection,
                source=paths[source.name],
                target=paths[target.name],
                units=chunk,
            ).cpu()
            norms = kernel_norms(kernels)
            chunks.append((*strongest(kernels, norms, min(k, source.channels)), norms))
    indices, norms, kernels, norm_matrix = (torch.cat(part) for part in zip(*chunks, strict=True))
    return WeightsResult(
        layer=target.name,
        source_layer=source.name,
        mode=connection.mode,
        units=rows,
        indices=indices,
        norms=norms,
        kernels=kernels,
        norm_matrix=norm_matrix.float(),
    )
