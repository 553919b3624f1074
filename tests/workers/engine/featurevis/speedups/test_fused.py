import copy

import pytest
import torch
from torch import nn

from workers.engine.featurevis.relu import Rectifier, redirected
from workers.engine.featurevis.speedups.fused import Rectified, RectifiedConv, fuse_rectifiers
from workers.engine.featurevis.speedups.pointwise import PointwiseConv

CHANNELS_LAST = torch.channels_last


def frozen(module: nn.Module) -> nn.Module:
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module.eval()


def convolutions():
    """(name, convolution) of every kind RectifiedConv fuses, with random weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return [
            ("pointwise", frozen(PointwiseConv(nn.Conv2d(5, 7, 1)))),
            ("pointwise without bias", frozen(PointwiseConv(nn.Conv2d(5, 7, 1, bias=False)))),
            ("3x3 stride 2", frozen(nn.Conv2d(5, 7, 3, stride=2, padding=1))),
            ("depthwise", frozen(nn.Conv2d(5, 5, 3, padding=1, groups=5))),
            ("depthwise stride 2", frozen(nn.Conv2d(5, 5, 3, stride=2, padding=1, groups=5))),
            # Few input channels: the input gradient is a GEMM and col2im.
            ("RGB 3x3 stride 2", frozen(nn.Conv2d(3, 7, 3, stride=2, padding=1))),
            ("RGB 5x5 stride 2 unpadded", frozen(nn.Conv2d(3, 4, 5, stride=2))),
        ]


NAMES = [name for name, _ in convolutions()]


def input_channels(convolution: nn.Module) -> int:
    return convolution.weight.shape[1] * getattr(convolution, "groups", 1)


def maps(channels_last: bool = True, channels: int = 5) -> torch.Tensor:
    x = torch.randn(3, channels, 9, 8, generator=torch.Generator().manual_seed(1)) * 3
    return x.contiguous(memory_format=CHANNELS_LAST) if channels_last else x


def value_and_gradient(module: nn.Module, x: torch.Tensor, upstream: torch.Tensor):
    x = x.clone().requires_grad_(True)
    y = module(x)
    (y * upstream).sum().backward()
    return y.detach(), x.grad


def backward_name(module: nn.Module, x: torch.Tensor) -> str:
    """The autograd node that made the module's output, past any permute."""
    node = module(x.clone().requires_grad_(True)).grad_fn
    while node.name() == "PermuteBackward0":
        node = node.next_functions[0][0]
    return node.name()


def fused_and_unfused(convolution: nn.Module, high: float | None):
    return RectifiedConv(convolution, high), nn.Sequential(convolution, Rectifier(high))


@pytest.mark.parametrize("high", [None, 6.0], ids=["relu", "relu6"])
@pytest.mark.parametrize(("name", "convolution"), convolutions(), ids=NAMES)
def test_fused_value_and_input_gradient_equal_the_unfused(name, convolution, high):
    fused, unfused = fused_and_unfused(convolution, high)
    x = maps(channels=input_channels(convolution))
    upstream = torch.randn_like(unfused(x))

    y, grad = value_and_gradient(fused, x, upstream)
    expected_y, expected_grad = value_and_gradient(unfused, x, upstream)

    assert backward_name(fused, x).startswith("_Rectified")
    torch.testing.assert_close(y, expected_y, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("name", "convolution"), convolutions(), ids=NAMES)
def test_fused_redirected_gradient_equals_the_unfused(name, convolution):
    fused, unfused = fused_and_unfused(convolution, 6.0)
    # Images far below zero: silent everywhere, so only the redirect moves them.
    x = maps(channels=input_channels(convolution)) - 40.0
    upstream = -torch.ones_like(unfused(x))

    with redirected(fused), redirected(unfused):
        _, grad = value_and_gradient(fused, x, upstream)
        _, expected_grad = value_and_gradient(unfused, x, upstream)

    assert backward_name(fused, x).startswith("_Rectified")
    assert grad.abs().sum() > 0
    torch.testing.assert_close(grad, expected_grad, rtol=1e-5, atol=1e-5)


def test_fused_output_is_channels_last():
    fused = RectifiedConv(frozen(PointwiseConv(nn.Conv2d(5, 7, 1))), 6.0)

    assert fused(maps()).is_contiguous(memory_format=CHANNELS_LAST)


def test_fused_runs_the_plain_ops_on_contiguous_maps():
    convolution = frozen(nn.Conv2d(5, 7, 3, padding=1))
    fused, unfused = fused_and_unfused(convolution, 6.0)
    x = maps(channels_last=False)
    upstream = torch.randn_like(unfused(x))

    assert backward_name(fused, x) == "HardtanhBackward0"
    torch.testing.assert_close(
        value_and_gradient(fused, x, upstream), value_and_gradient(unfused, x, upstream)
    )


def test_fused_with_trainable_weights_gives_them_gradients():
    convolution = nn.Conv2d(5, 7, 3, padding=1)
    fused = RectifiedConv(convolution, 6.0)

    fused(maps()).sum().backward()

    assert convolution.weight.grad is not None


def test_fused_gradient_passes_a_float64_gradcheck_through_the_plain_ops():
    convolution = nn.Conv2d(2, 3, 3, stride=2, padding=1).double()
    fused = RectifiedConv(frozen(convolution), 6.0)
    x = torch.rand(1, 2, 5, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    # Away from the kinks at 0 and 6, where the gradient is not defined.
    x = (x * 2 - 1).requires_grad_(True)

    assert torch.autograd.gradcheck(fused, (x,))


def test_fuse_rectifiers_fuses_across_folded_batch_norms_and_keeps_paths():
    module = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.Identity(),
        Rectifier(6.0),
        PointwiseConv(nn.Conv2d(4, 5, 1)),
        nn.Identity(),
    )
    paths = [name for name, _ in module.named_children()]

    assert fuse_rectifiers(module) == 1
    assert [name for name, _ in module.named_children()] == paths
    assert [type(child) for child in module] == [
        RectifiedConv,
        nn.Identity,
        Rectified,
        PointwiseConv,
        nn.Identity,
    ]
    assert module[0].high == 6.0


def test_fuse_rectifiers_leaves_a_rectifier_after_another_module():
    module = nn.Sequential(nn.Conv2d(3, 4, 1), nn.MaxPool2d(2), Rectifier(None))

    assert fuse_rectifiers(module) == 0


def test_fused_module_keeps_the_studied_output_under_its_old_path():
    module = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), Rectifier(6.0))
    unfused = copy.deepcopy(module)
    fuse_rectifiers(module)
    frozen(module)
    seen = []
    module[1].register_forward_hook(lambda _m, _args, output: seen.append(output))
    x = maps().narrow(1, 0, 3).contiguous(memory_format=CHANNELS_LAST)

    module(x)

    torch.testing.assert_close(seen[0], unfused(x).detach())
