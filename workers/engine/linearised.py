"""Networks with their non-linearities replaced by the closest linear operation.

Expanded weights ("Visualizing Weights", Voss et al. 2021) are read from this linear version:
ReLU and ReLU6 become the identity, max-pooling becomes average pooling over the same window,
local response normalisation becomes the identity; batch norm in eval mode is affine and
stays. Modules that apply non-linearities functionally inside `forward` take part by exposing
a boolean `linear` attribute, which the context sets while it is active.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

IDENTITY_IN_LINEAR = (nn.ReLU, nn.ReLU6, nn.LocalResponseNorm)


def linear_version(module: nn.Module) -> nn.Module | None:
    """The closest linear stand-in for a non-linear module, or None to keep it."""
    if isinstance(module, IDENTITY_IN_LINEAR):
        return nn.Identity()
    if isinstance(module, nn.MaxPool2d):
        return nn.AvgPool2d(
            module.kernel_size,
            stride=module.stride,
            padding=module.padding,
            ceil_mode=module.ceil_mode,
        )
    return None


def _swaps(module: nn.Module) -> list[tuple[nn.Module, str, nn.Module, nn.Module]]:
    """(parent, child name, original, stand-in) for every child that has a linear version."""
    swaps = []
    for parent in module.modules():
        for name, child in parent.named_children():
            stand_in = linear_version(child)
            if stand_in is not None:
                swaps.append((parent, name, child, stand_in))
    return swaps


@contextmanager
def linearised(module: nn.Module) -> Iterator[nn.Module]:
    """Within the block, `module` computes its closest linear version; restored on exit.

    The module itself is changed meanwhile, so nothing else may run it then. Hooks
    registered inside the block on a swapped submodule go on its stand-in and leave with it.
    """
    swaps = _swaps(module)
    switches = [
        (part, part.linear)
        for part in module.modules()
        if isinstance(getattr(part, "linear", None), bool)
    ]
    try:
        for parent, name, _, stand_in in swaps:
            setattr(parent, name, stand_in)
        for part, _ in switches:
            part.linear = True
        yield module
    finally:
        for parent, name, original, _ in swaps:
            setattr(parent, name, original)
        for part, was_linear in switches:
            part.linear = was_linear
