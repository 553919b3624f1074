import torch
from torch import nn

from workers.engine.featurevis.speedups.pointwise import PointwiseConv


def frozen_pair(bias: bool = True):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        conv = nn.Conv2d(5, 7, 1, bias=bias)
    pointwise = PointwiseConv(conv)
    for parameter in [*conv.parameters(), *pointwise.parameters()]:
        parameter.requires_grad_(False)
    return conv, pointwise


def value_and_gradient(module, x, upstream):
    x = x.clone().requires_grad_(True)
    y = module(x)
    (y * upstream).sum().backward()
    return y.detach(), x.grad, y.grad_fn.name()


def test_frozen_pointwise_conv_on_channels_last_maps_runs_onednn_and_equals_the_convolution():
    conv, pointwise = frozen_pair()
    x = torch.randn(2, 5, 4, 3, generator=torch.Generator().manual_seed(1))
    x = x.contiguous(memory_format=torch.channels_last)
    upstream = torch.randn(2, 7, 4, 3, generator=torch.Generator().manual_seed(2))

    y, grad, node = value_and_gradient(pointwise, x, upstream)
    expected_y, expected_grad, _ = value_and_gradient(conv, x, upstream)

    assert node == "_FrozenPointwiseBackward"
    torch.testing.assert_close(y, expected_y)
    torch.testing.assert_close(grad, expected_grad)


def test_frozen_pointwise_conv_takes_a_contiguous_upstream_gradient():
    conv, pointwise = frozen_pair(bias=False)
    x = torch.randn(2, 5, 4, 3).contiguous(memory_format=torch.channels_last)
    upstream = torch.randn(2, 7, 4, 3)

    _, grad, _ = value_and_gradient(pointwise, x, upstream)

    torch.testing.assert_close(grad, value_and_gradient(conv, x, upstream)[1])


def test_pointwise_conv_with_trainable_weights_gives_them_gradients():
    pointwise = PointwiseConv(nn.Conv2d(5, 7, 1))
    x = torch.randn(2, 5, 4, 3).contiguous(memory_format=torch.channels_last)

    pointwise(x).sum().backward()

    assert pointwise.weight.grad is not None
