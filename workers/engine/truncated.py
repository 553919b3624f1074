"""A built-in network cut right after one of its layers, as a traced module without hooks.

`capture.capture_by_hooks` ends a forward by raising from a hook, which suits eager runs but
not a compiler: torch.compile breaks its graph at every hook and cannot see past the raise.
Here torch.fx traces the network once, the graph's output becomes the layer's module call,
and dead-code elimination drops everything after it. What is left is a plain module whose
forward computes exactly the layer's map: nothing deeper exists in it, so nothing deeper
can run, and there are no hooks to leave behind.

Only the modules on the way down to the layer (the root and the containers and blocks
that hold it) are traced through; every other module stays one opaque call, so the
architectures' own modules (and the render copy's replacements, which branch on the device
and dtype of their input) need not be traceable themselves.
"""

from torch import fx, nn

_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


class TruncationError(ValueError):
    """The network cannot be cut at that module (not traceable, or the module is reused)."""


class _CutTracer(fx.Tracer):
    """Traces through the target's ancestors and containers; every other module is a leaf."""

    def __init__(self, target: str):
        super().__init__()
        self.target = target

    def is_leaf_module(self, module: nn.Module, qualified_name: str) -> bool:
        if qualified_name == self.target:
            return True
        if self.target.startswith(f"{qualified_name}."):
            return False
        return not isinstance(module, _CONTAINERS)


def truncated_module(module: nn.Module, path: str) -> fx.GraphModule:
    """A module computing `module`'s forward only up to the output of submodule `path`.

    It shares `module`'s submodules and parameters (no copy). TruncationError when the
    forward cannot be traced or calls that submodule other than exactly once.
    """
    try:
        module.get_submodule(path)
        graph = _CutTracer(path).trace(module)
    except Exception as error:
        raise TruncationError(
            f"cannot trace {type(module).__name__} to {path!r}: {error}"
        ) from error
    calls = [node for node in graph.nodes if node.op == "call_module" and node.target == path]
    if len(calls) != 1:
        raise TruncationError(f"the forward calls {path!r} {len(calls)} times; expected once.")
    output = next(node for node in graph.nodes if node.op == "output")
    output.args = (calls[0],)
    cut = fx.GraphModule(module, graph, class_name=f"{type(module).__name__}Until")
    cut.graph.eliminate_dead_code()
    cut.delete_all_unused_submodules()
    cut.recompile()
    cut.train(module.training)
    return cut


def called_modules(cut: fx.GraphModule) -> list[str]:
    """Paths of the submodules the cut module's forward calls, in order."""
    return [str(node.target) for node in cut.graph.nodes if node.op == "call_module"]
