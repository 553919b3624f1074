from collections import OrderedDict

import pytest
import torch
from torch import nn

from workers.engine.connections import connection_kernels, kernel_extent, trace_connection
from workers.engine.errors import UnsupportedLayer
from workers.engine.linearised import linearised


def _conv(in_channels, out_channels, kernel, *, seed, **options):
    """A convolution with weights and bias drawn from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    conv = nn.Conv2d(in_channels, out_channels, kernel, **options)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator))
        conv.bias.copy_(torch.randn(conv.bias.shape, generator=generator))
    return conv


def _norm(channels, *, seed):
    """An eval-mode batch norm with statistics and affine parameters drawn from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    norm = nn.BatchNorm2d(channels)
    with torch.no_grad():
        norm.weight.copy_(torch.randn(channels, generator=generator))
        norm.bias.copy_(torch.randn(channels, generator=generator))
        norm.running_mean.copy_(torch.randn(channels, generator=generator))
        norm.running_var.copy_(torch.rand(channels, generator=generator) + 0.1)
    return norm


def _chain(**layers):
    """A frozen eval-mode Sequential whose first module, "source", is the source layer."""
    module = nn.Sequential(OrderedDict(source=nn.Identity(), **layers)).eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


def _read(module, *, target, channels, units, side=12):
    """The connection into `target` on a zero input, and the kernels into its first `units`."""
    inputs = torch.zeros(1, channels, side, side)
    connection = trace_connection(module, inputs, source="source", target=target)
    kernels = connection_kernels(
        module, inputs, connection, source="source", target=target, units=torch.arange(units)
    )
    return connection, kernels


def _composed(second, first):
    """Kernels of `second` after `first`: full 2-D convolution summed over middle channels."""
    height = second.shape[2] + first.shape[2] - 1
    width = second.shape[3] + first.shape[3] - 1
    composed = torch.zeros(second.shape[0], first.shape[1], height, width)
    for row in range(second.shape[2]):
        for column in range(second.shape[3]):
            composed[:, :, row : row + first.shape[2], column : column + first.shape[3]] += (
                torch.einsum("bm,mayx->bayx", second[:, :, row, column], first)
            )
    return composed


def _two_convolutions(**between):
    """3×3 convolution, optional layers, 3×3 convolution; "same" padding, 3 → 4 → 5 channels."""
    return _chain(
        first=_conv(3, 4, 3, seed=1, padding=1),
        **between,
        second=_conv(4, 5, 3, seed=2, padding=1),
    )


def test_two_linear_convolutions_read_as_their_composition():
    module = _two_convolutions()

    _, kernels = _read(module, target="second", channels=3, units=5)

    torch.testing.assert_close(kernels, _composed(module.second.weight, module.first.weight))


def test_two_three_by_three_convolutions_give_five_by_five_kernels():
    _, kernels = _read(_two_convolutions(), target="second", channels=3, units=5)

    assert kernels.shape == (5, 3, 5, 5)


def test_two_convolutions_are_an_expanded_connection():
    connection, _ = _read(_two_convolutions(), target="second", channels=3, units=5)

    assert connection.mode == "expanded"


def test_kernel_lies_on_the_source_positions_the_centre_unit_reads():
    connection, _ = _read(_two_convolutions(), target="second", channels=3, units=5)

    # A 12×12 map keeps 12×12 through "same" padding: unit 5 reads positions 5 − 2 … 5 + 2.
    assert (connection.centre, connection.rows, connection.columns) == (
        (5, 5),
        slice(3, 8),
        slice(3, 8),
    )


def test_one_convolution_reads_as_its_own_kernel():
    module = _chain(conv=_conv(3, 4, 3, seed=3))

    _, kernels = _read(module, target="conv", channels=3, units=4)

    torch.testing.assert_close(kernels, module.conv.weight)


def test_one_convolution_is_a_direct_connection():
    connection, _ = _read(_chain(conv=_conv(3, 4, 3, seed=3)), target="conv", channels=3, units=4)

    assert connection.mode == "direct"


def test_batch_norm_scale_is_folded_into_the_kernel():
    module = _chain(conv=_conv(3, 4, 3, seed=4), norm=_norm(4, seed=5))
    scale = module.norm.weight / torch.sqrt(module.norm.running_var + module.norm.eps)

    _, kernels = _read(module, target="norm", channels=3, units=4)

    torch.testing.assert_close(kernels, module.conv.weight * scale.view(4, 1, 1, 1))


def test_convolution_with_batch_norm_is_a_direct_connection():
    module = _chain(conv=_conv(3, 4, 3, seed=4), norm=_norm(4, seed=5))

    connection, _ = _read(module, target="norm", channels=3, units=4)

    assert connection.mode == "direct"


def test_relu_between_convolutions_reads_as_identity_when_linearised():
    module = _two_convolutions(relu=nn.ReLU())

    with linearised(module):
        _, kernels = _read(module, target="second", channels=3, units=5)

    torch.testing.assert_close(kernels, _composed(module.second.weight, module.first.weight))


def test_max_pool_before_a_convolution_reads_as_an_average_pool_when_linearised():
    module = _chain(pool=nn.MaxPool2d(2), conv=_conv(3, 4, 3, seed=6))
    # Each weight of the convolution is spread evenly over the 2×2 window it pools.
    averaged = module.conv.weight.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3) / 4

    with linearised(module):
        _, kernels = _read(module, target="conv", channels=3, units=4, side=16)

    torch.testing.assert_close(kernels, averaged)


def test_pooling_makes_a_single_convolution_an_expanded_connection():
    module = _chain(pool=nn.MaxPool2d(2), conv=_conv(3, 4, 3, seed=6))

    with linearised(module):
        connection, _ = _read(module, target="conv", channels=3, units=4, side=16)

    assert connection.mode == "expanded"


def test_kernel_extent_is_the_height_and_width_read():
    connection, _ = _read(_two_convolutions(), target="second", channels=3, units=5)

    assert kernel_extent(connection) == (5, 5)


def test_kernels_are_read_for_the_requested_units_in_their_order():
    module = _two_convolutions()
    inputs = torch.zeros(1, 3, 12, 12)
    connection = trace_connection(module, inputs, source="source", target="second")

    kernels = connection_kernels(
        module, inputs, connection, source="source", target="second", units=torch.tensor([4, 1])
    )

    composed = _composed(module.second.weight, module.first.weight)
    torch.testing.assert_close(kernels, composed[[4, 1]])


def test_target_computed_before_the_source_is_refused():
    module = nn.Sequential(OrderedDict(first=_conv(3, 4, 3, seed=7), source=nn.Identity())).eval()

    with pytest.raises(UnsupportedLayer, match="first is not computed from source"):
        trace_connection(module, torch.zeros(1, 3, 8, 8), source="source", target="first")


def test_reading_kernels_leaves_no_hooks():
    module = _two_convolutions()

    _read(module, target="second", channels=3, units=5)

    assert [name for name, part in module.named_modules() if part._forward_hooks] == []
