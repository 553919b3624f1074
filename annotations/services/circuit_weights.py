"""The weights that join a circuit's units, computed by the engine on the loaded network.

The network is loaded through the worker runtime's cache (``workers.runtime.network_for``),
always on the CPU: these run inside web requests, and GPUs belong to worker children (DESIGN);
the CPU also reads kernels exactly (no TF32). ``workers.engine.weights.unit_weights`` reads
the kernels: the direct kernel (convolution times batch-norm scale) between adjacent layers,
the expanded weight through the linearised network otherwise. The weights job's artifacts
are not read: they hold only the k strongest inputs of each unit, and an edge may join any two
units.

An edge's magnitude is the kernel's L2 norm (``kernel_norms``); its sign is the sign of the
kernel's sum, so a kernel that excites on balance is positive.
"""

from dataclasses import dataclass

import torch

from server.errors import ValidationFailed
from workers.engine.errors import UnsupportedLayer
from workers.engine.weights import outgoing, unit_weights
from workers.runtime import network_for

ENGINE = "workers.engine.weights.unit_weights"
CPU = torch.device("cpu")


@dataclass(frozen=True)
class Weight:
    """The kernel from unit ``source`` of ``source_layer`` into ``target`` of ``layer``."""

    source_layer: str
    source: int
    layer: str
    target: int
    magnitude: float
    sign: int
    kind: str
    kernel: list


def _refused(error):
    return ValidationFailed(
        f"The engine cannot compute these weights: {error}",
        code="weights_unavailable",
        fields={"unit": [str(error)]},
    )


def _weight(result, row, column, source):
    kernel = result.kernels[row, column]
    total = float(kernel.sum())
    return Weight(
        source_layer=result.source_layer,
        source=source,
        layer=result.layer,
        target=int(result.units[row]),
        magnitude=float(result.norms[row, column]),
        sign=(total > 0) - (total < 0),
        kind=result.mode,
        kernel=kernel.tolist(),
    )


def _compute(network, layer, **options):
    if network.source == network.Source.TORCHSCRIPT:
        # Loading one would run a user's model in the web process (DESIGN: only in workers).
        raise _refused(
            "Weights between units are read from built-in architectures only; this is a "
            "TorchScript network."
        )
    try:
        return unit_weights(network_for(network, on=CPU), layer, **options)
    except (UnsupportedLayer, ValueError, KeyError) as error:
        raise _refused(error) from error


def weight_between(*, network, source_unit, target_unit):
    """The weight from ``source_unit`` to ``target_unit`` (a later layer of ``network``)."""
    if source_unit.layer.order >= target_unit.layer.order:
        raise ValidationFailed(
            "An edge goes from an earlier layer to a later one.",
            code="edge_direction",
            fields={"target": ["Not in a later layer than the source."]},
        )
    result = _compute(
        network,
        target_unit.layer.name,
        source_layer=source_unit.layer.name,
        units=[target_unit.index],
        k=source_unit.layer.channels,
    )
    column = result.indices[0].tolist().index(source_unit.index)
    return _weight(result, 0, column, source_unit.index)


def strongest_inputs(*, network, unit, k, threshold):
    """Up to ``k`` weights into ``unit`` from the layer before, strongest first, with a
    magnitude of at least ``threshold``."""
    result = _compute(network, unit.layer.name, units=[unit.index], k=k)
    weights = [
        _weight(result, 0, column, int(source))
        for column, source in enumerate(result.indices[0].tolist())
    ]
    return [weight for weight in weights if weight.magnitude >= threshold]


def strongest_outputs(*, network, unit, next_layer, k, threshold):
    """Up to ``k`` weights from ``unit`` into ``next_layer`` (the layer after it), strongest
    first, with a magnitude of at least ``threshold``."""
    everything = _compute(network, next_layer.name, source_layer=unit.layer.name, k=1)
    rows, norms = outgoing(everything.norm_matrix, unit.index, k)
    targets = [
        int(everything.units[row])
        for row, norm in zip(rows, norms, strict=True)
        if norm >= threshold
    ]
    if not targets:
        return []
    chosen = _compute(
        network,
        next_layer.name,
        source_layer=unit.layer.name,
        units=targets,
        k=unit.layer.channels,
    )
    return [
        _weight(chosen, row, chosen.indices[row].tolist().index(unit.index), unit.index)
        for row in range(len(targets))
    ]


def weight_origin(network, weight):
    """Where an edge's numbers came from, stored with the edge."""
    return {
        "engine": ENGINE,
        "network": network.name,
        "weights_sha256": network.weights_sha256,
        "random_seed": network.random_seed,
        "source_layer": weight.source_layer,
        "layer": weight.layer,
    }
