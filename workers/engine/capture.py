"""Running a network just far enough to read the activations of some layers."""

from collections.abc import Callable, Mapping, Sequence

import torch
from torch import nn

from workers.engine.errors import InvalidTorchScript

# Receives a layer's name and its [B, C, H, W] map as soon as the forward has made it.
OnMap = Callable[[str, torch.Tensor], None]


class _EnoughLayers(Exception):
    """Raised from a hook once every requested layer has been seen, to end the forward."""


def capture_by_hooks(
    module: nn.Module,
    inputs: torch.Tensor,
    names: Sequence[str],
    *,
    module_paths: Mapping[str, str],
    on_map: OnMap | None = None,
) -> dict[str, torch.Tensor]:
    """Outputs of the named layers, each the output of a submodule (see `module_paths`).

    Hooks go on those submodules only, the forward pass stops right after the last of them,
    and the hooks are removed whatever happens. on_map: hand each map to on_map(name, map)
    from its hook, in the order the forward produces them, and keep none (returns {}).
    """
    targets = {name: module_paths[name] for name in names}
    captured: dict[str, torch.Tensor] = {}
    seen: set[str] = set()

    def hook_for(layer: str):
        def hook(_module, _args, output):
            if on_map is None:
                captured[layer] = output
            else:
                on_map(layer, output)
            seen.add(layer)
            if len(seen) == len(targets):
                raise _EnoughLayers

        return hook

    handles = []
    try:
        for layer, path in targets.items():
            handles.append(module.get_submodule(path).register_forward_hook(hook_for(layer)))
        module(inputs)
    except _EnoughLayers:
        pass
    finally:
        for handle in handles:
            handle.remove()
    return {} if on_map is not None else {name: captured[name] for name in names}


def named_outputs(output: object) -> dict[str, torch.Tensor]:
    """A TorchScript forward's result as named 4-D maps, or InvalidTorchScript."""
    layers = {"output": output} if isinstance(output, torch.Tensor) else output
    if not isinstance(layers, dict) or not layers:
        raise InvalidTorchScript(
            f"forward returned {type(output).__name__}; it must return a [B, C, H, W] tensor "
            "or a non-empty dict of such tensors keyed by layer name."
        )
    for name, tensor in layers.items():
        if not isinstance(tensor, torch.Tensor) or tensor.dim() != 4:
            shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor)
            raise InvalidTorchScript(
                f"forward output {name!r} is {shape}; every layer must be a [B, C, H, W] tensor."
            )
    return layers


def capture_outputs(
    module: nn.Module, inputs: torch.Tensor, names: Sequence[str], *, on_map: OnMap | None = None
) -> dict[str, torch.Tensor]:
    """The named maps a TorchScript forward returns (it always runs to the end).

    on_map: hand each map to on_map(name, map) in the order of `names` and return {}; the
    forward has made them all by then.
    """
    layers = named_outputs(module(inputs))
    if on_map is None:
        return {name: layers[name] for name in names}
    for name in names:
        on_map(name, layers[name])
    return {}
