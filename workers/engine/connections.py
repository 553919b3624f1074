"""How one layer's units read another's: the gradient of a linear path, unit by unit.

Everything here works on a plain module and submodule paths. The target's centre value is
differentiated with respect to a zero leaf put in place of the source's output: on a linear
path (see `linearised`) that gradient is exactly the linear map, so across one convolution
plus batch norm it is the kernel times the norm's scale, and across several it is the product
of their weights. Biases, and whatever does not flow from the source, drop out of it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from workers.engine.errors import UnsupportedLayer


@dataclass(frozen=True)
class Connection:
    """Where the target's centre unit reads the source map, and how directly.

    mode: "direct" (one convolution, maybe with batch norm and adds on the way) or
    "expanded"; centre: the (row, column) on the target map whose weights are read; rows and
    columns: the part of the source map it depends on, which is the kernels' extent.
    """

    mode: str
    centre: tuple[int, int]
    rows: slice
    columns: slice


class _ReachedTarget(Exception):
    """Raised from the target's hook to end the forward there."""


def _run_from_source(
    module: nn.Module,
    inputs: torch.Tensor,
    *,
    source: str,
    target: str,
    copies: int,
    parameters: Mapping[str, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A zero leaf put in place of the source's output, and the target map computed from it.

    The leaf holds `copies` copies of the source map; the forward from `inputs` (one image)
    stops right after the target, and paths that bypass the source keep batch 1 and broadcast.
    `parameters` stand in for the module's own ones during this forward.
    """
    reached: dict[str, torch.Tensor] = {}

    def replace_source(_module, _args, output):
        shape = (copies, *output.shape[1:])
        reached["source"] = torch.zeros(
            shape, dtype=output.dtype, device=output.device, requires_grad=True
        )
        return reached["source"]

    def stop_at_target(_module, _args, output):
        reached["target"] = output
        raise _ReachedTarget

    handles = [
        module.get_submodule(source).register_forward_hook(replace_source),
        module.get_submodule(target).register_forward_hook(stop_at_target),
    ]
    try:
        with torch.enable_grad():
            functional_call(module, dict(parameters or {}), (inputs,))
    except _ReachedTarget:
        pass
    finally:
        for handle in handles:
            handle.remove()
    target_map = reached.get("target")
    if "source" not in reached or target_map is None or not target_map.requires_grad:
        raise UnsupportedLayer(f"{target} is not computed from {source}.")
    return reached["source"], target_map


def _positive_parameters(module: nn.Module) -> dict[str, torch.Tensor]:
    """Stand-ins for every parameter, all positive, so that no two paths can cancel."""
    # Kernels average (1 / fan-in per weight) so that products over many layers stay far
    # from overflow and underflow.
    return {
        name: torch.full_like(parameter, 1.0 / parameter[0].numel())
        if parameter.dim() > 1
        else torch.ones_like(parameter)
        for name, parameter in module.named_parameters()
    }


def _operations(output: torch.Tensor, source: torch.Tensor) -> list[str]:
    """Names of the autograd operations on the paths from `source` to `output`."""
    on_path: dict[object, bool] = {}

    def reaches_source(node) -> bool:
        if node not in on_path:
            children = [
                reaches_source(child) for child, _ in node.next_functions if child is not None
            ]
            on_path[node] = getattr(node, "variable", None) is source or any(children)
        return on_path[node]

    reaches_source(output.grad_fn)
    return [node.name() for node, on in on_path.items() if on]


def _mode(operations: Sequence[str]) -> str:
    """Direct across exactly one convolution and no pooling, else expanded."""
    convolutions = sum("Convolution" in name for name in operations)
    pooled = any("Pool" in name for name in operations)
    return "direct" if convolutions == 1 and not pooled else "expanded"


def _span(support: torch.Tensor) -> slice:
    """The smallest slice holding every True of a 1-D mask."""
    positions = support.nonzero().flatten()
    return slice(int(positions[0]), int(positions[-1]) + 1)


def trace_connection(
    module: nn.Module, inputs: torch.Tensor, *, source: str, target: str
) -> Connection:
    """Which source positions the target's centre unit depends on, and through what.

    source, target: submodule paths. Every weight is replaced by a positive one for this
    trace, so no paths cancel and the gradient's support is exactly the centre unit's field on
    the source map, wherever the paddings on the way put it.
    """
    leaf, target_map = _run_from_source(
        module,
        inputs,
        source=source,
        target=target,
        copies=1,
        parameters=_positive_parameters(module),
    )
    centre = ((target_map.shape[2] - 1) // 2, (target_map.shape[3] - 1) // 2)
    (gradient,) = torch.autograd.grad(target_map[0, :, centre[0], centre[1]].sum(), leaf)
    support = gradient[0].abs().sum(dim=0) > 0
    return Connection(
        mode=_mode(_operations(target_map, leaf)),
        centre=centre,
        rows=_span(support.any(dim=1)),
        columns=_span(support.any(dim=0)),
    )


def connection_kernels(
    module: nn.Module,
    inputs: torch.Tensor,
    connection: Connection,
    *,
    source: str,
    target: str,
    units: torch.Tensor,
) -> torch.Tensor:
    """Kernels [U, C_source, kh, kw] from every source unit into each of the target `units`.

    One forward and one backward for all of them: copy i of the zero source map receives the
    gradient of unit units[i] at the connection's centre. Call it inside `linearised(module)`
    unless the path is linear already (at a zero input, ReLU's gradient is zero).
    """
    leaf, target_map = _run_from_source(
        module, inputs, source=source, target=target, copies=len(units)
    )
    row, column = connection.centre
    copies = torch.arange(len(units), device=target_map.device)
    objective = target_map[copies, units.to(target_map.device), row, column].sum()
    (gradient,) = torch.autograd.grad(objective, leaf)
    return gradient[:, :, connection.rows, connection.columns].detach()


def kernel_extent(connection: Connection) -> tuple[int, int]:
    """Height and width of the kernels a connection reads."""
    return (
        connection.rows.stop - connection.rows.start,
        connection.columns.stop - connection.columns.start,
    )
