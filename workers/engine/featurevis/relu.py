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

from workers.engine.featurevis.speedups.swap import replace_submodules

REDIRECT_STEPS = 16


def _true_gradient(grad: torch.Tensor, y: torch.Tensor, high: float | None) -> torch.Tensor:
    """The gradient of relu (high None) or hardtanh(0, high), from the output y, in one pass.

    From the output because 0 < y < high exactly where 0 < x < high, and y <= 0 (>= high)
    exactly where x <= 0 (>= high): torch's kernels give the same result on either.
    """
    if high is None:
        return torch.ops.aten.threshold_backward(grad, y, 0.0)
    return torch.ops.aten.hardtanh_backward(grad, y, 0.0, high)


def _redirected_gradient(grad: torch.Tensor, y: torch.Tensor, high: float | None) -> torch.Tensor:
    """The gradient let through except where it would push the input further out of range."""
    # The loss is minimised: a positive gradient lowers the output, a negative one raises it.
    away = (y <= 0.0) & (grad > 0)
    if high is not None:
        away |= (y >= high) & (grad < 0)
    return grad.masked_fill(away, 0)


def rectified_gradient(
    grad: torch.Tensor, y: torch.Tensor, high: float | None, redirect: bool
) -> torch.Tensor:
    """The input gradient of a rectifier with output y; redirected for silent images if asked.

    An image is silent when its true gradient is zero everywhere; only those are redirected.
    """
    true = _true_gradient(grad, y, high)
    if not redirect:
        return true
    silent = torch.count_nonzero(true, dim=tuple(range(1, grad.dim()))).eq(0)
    # A device sync, but only in the first REDIRECT_STEPS steps of a render.
    if not silent.any():
        return true
    # Only the silent images need the redirected gradient, and most images are not.
    rows = silent.nonzero().flatten()
    true[rows] = _redirected_gradient(grad[rows], y[rows], high)
    return true


class _RedirectedClamp(torch.autograd.Function):
    """clamp(x, 0, high) whose backward redirects the gradient of all-zero-gradient images."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, high: float | None) -> torch.Tensor:
        y = x.clamp(0.0, high)
        ctx.save_for_backward(y)
        ctx.high = high
        return y

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (y,) = ctx.saved_tensors
        return rectified_gradient(grad, y, ctx.high, redirect=True), None


class Rectifier(nn.Module):
    """ReLU (high=None) or ReLU6 (high=6) that can redirect its gradient while `redirect`."""

    def __init__(self, high: float | None):
        super().__init__()
        self.high = high
        self.redirect = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.redirect:
            return _RedirectedClamp.apply(x, self.high)
        return F.relu(x) if self.high is None else F.hardtanh(x, 0.0, self.high)


def replace_rectifiers(module: nn.Module) -> int:
    """Swap every nn.ReLU and nn.ReLU6 submodule for a Rectifier, in place; returns how many."""

    def rectifier(child: nn.Module) -> Rectifier | None:
        if type(child) not in (nn.ReLU, nn.ReLU6):
            return None
        return Rectifier(6.0 if type(child) is nn.ReLU6 else None)

    return replace_submodules(module, rectifier)


@contextmanager
def redirected(module: nn.Module, enabled: bool = True) -> Iterator[None]:
    """Within the block, the module's Rectifiers redirect their gradients (if `enabled`)."""
    if not enabled:
        yield
        return
    rectifiers = [m for m in module.modules() if isinstance(m, Rectifier)]
    for rectifier in rectifiers:
        rectifier.redirect = True
    try:
        yield
    finally:
        for rectifier in rectifiers:
            rectifier.redirect = False
