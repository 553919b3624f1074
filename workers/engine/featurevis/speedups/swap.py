"""Swapping submodules of a render copy for faster equivalents, in place."""

from collections.abc import Callable

from torch import nn


def replace_submodules(
    module: nn.Module, replacement: Callable[[nn.Module], nn.Module | None]
) -> int:
    """Replace every submodule `child` for which `replacement(child)` gives a module by that
    module, under the same name (so module paths stay); returns how many it replaced."""
    replaced = 0
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            new = replacement(child)
            if new is not None:
                setattr(parent, name, new)
                replaced += 1
    return replaced
