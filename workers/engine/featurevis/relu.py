"""Lucid's redirected ReLU gradient, so that units silent on the first image still learn.

On a near-grey start image many units behind a ReLU are zero everywhere (16 of the 32 units
of MobileNetV2's first layer), so the true gradient is zero and the image never changes. For
the first REDIRECT_STEPS steps, Lucid lets the gradient through a clipped ReLU wherever it
would push the input back into range, for the images whose true gradient through that ReLU
is zero everywhere; afterwards the true gradient is used.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

REDIRECT_STEPS = 16


class _RedirectedClamp(torch.autograd.Function):
    """clamp(x, low, high) whose backward redirects the gradient of all-zero-gradient images."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, low: float, high: float | None) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.low, ctx.high = low, high
        return x.clamp(low, high)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        # At the edges the true gradient is zero, as torch's relu and hardtanh have it.
        below = x <= ctx.low
        above = x >= ctx.high if ctx.high is not None else torch.zeros_like(below)
        true = grad.masked_fill(below | above, 0)
        silent = true.abs().amax(dim=tuple(range(1, grad.dim()))).eq(0)
        if not silent.any():
            return true, None, None
        # The loss is minimised: a positive gradient lowers the output, a negative one raises it.
        away = (below & (grad > 0)) | (above & (grad < 0))
        redirected = grad.masked_fill(away, 0)
        silent = silent.view(-1, *[1] * (grad.dim() - 1))
        return torch.where(silent, redirected, true), None, None


class Rectifier(nn.Module):
    """ReLU (high=None) or ReLU6 (high=6) that can redirect its gradient while `redirect`."""

    def __init__(self, high: float | None):
        super().__init__()
        self.high = high
        self.redirect = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.redirect:
            return _RedirectedClamp.apply(x, 0.0, self.high)
        return F.relu(x) if self.high is None else F.hardtanh(x, 0.0, self.high)


def replace_rectifiers(module: nn.Module) -> int:
    """Swap every nn.ReLU and nn.ReLU6 submodule for a Rectifier, in place; returns how many."""
    replaced = 0
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if type(child) in (nn.ReLU, nn.ReLU6):
                setattr(parent, name, Rectifier(6.0 if type(child) is nn.ReLU6 else None))
                replaced += 1
    return replaced


@contextmanager
def redirected(module: nn.Module, enabled: bool = True) -> Iterator[None]:
    """Within the block, the module's Rectifiers redirect their gradients (if `enabled`)."""
    if not enabled:
        yield
        return
    rectifiers = [m for m in module.modules() if isinstance(m, Rectifier)]
    for rectifier in rectifiers:
        rectifier.redirect = enabled
    try:
        yield
    finally:
        for rectifier in rectifiers:
            rectifier.redirect = False
