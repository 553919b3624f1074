import pytest
import torch
from torch import nn

from workers.engine.errors import UnsupportedLayer
from workers.engine.networks import load_builtin, load_torchscript
from workers.engine.weights import (
    kernel_norms,
    kernel_size,
    outgoing,
    strongest,
    unit_weights,
)

# torch 2.13 deprecates TorchScript, which stays the engine's format for user models.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning"
)


def _random(*shape, seed):
    """Standard normal values drawn from `seed`."""
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _randomise_norms(module, *, seed):
    """Give every batch norm random statistics, so that folding its scale shows."""
    generator = torch.Generator().manual_seed(seed)
    for norm in (part for part in module.modules() if isinstance(part, nn.BatchNorm2d)):
        norm.weight.copy_(torch.randn(norm.num_features, generator=generator))
        norm.running_var.copy_(torch.rand(norm.num_features, generator=generator) + 0.1)


def _scale(norm):
    """Per-channel factor an eval-mode batch norm multiplies by."""
    return norm.weight / torch.sqrt(norm.running_var + norm.eps)


def _brute_force_ranking(norms, row, k):
    """The k columns of one row of a norm matrix, largest first, by sorting Python floats."""
    values = norms[row].tolist()
    return sorted(range(len(values)), key=lambda column: -values[column])[:k]


def _picked(kernels, indices):
    """kernels[b, indices[b, i]] for each row b: the full tensor at a result's choices."""
    return torch.stack([kernels[row, chosen] for row, chosen in enumerate(indices.tolist())])


class _TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(3, 4, 3, padding=1)
        self.second = nn.Conv2d(4, 5, 3, padding=1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        first = self.first(x)
        return {"first": first, "second": self.second(first)}


@pytest.fixture(scope="module")
def mobilenet():
    """A shared small MobileNetV2 with random batch-norm statistics; tests must not modify it."""
    network = load_builtin("mobilenet_v2", random_seed=0, input_size=64)
    with torch.no_grad():
        _randomise_norms(network.module, seed=0)
    return network


def test_kernel_norms_are_l2_norms():
    kernels = torch.tensor([[[[3.0, 0.0], [0.0, -4.0]], [[1.0, 0.0], [0.0, 0.0]]]])

    assert kernel_norms(kernels).tolist() == [[5.0, 1.0]]


def test_strongest_ranks_source_units_by_kernel_norm():
    kernels = _random(4, 6, 3, 3, seed=0)
    norms = kernel_norms(kernels)

    indices, _, _ = strongest(kernels, norms, 3)

    assert indices.tolist() == [_brute_force_ranking(norms, row, 3) for row in range(4)]


def test_strongest_returns_the_norms_of_the_chosen_units():
    kernels = _random(4, 6, 3, 3, seed=0)
    norms = kernel_norms(kernels)

    indices, chosen_norms, _ = strongest(kernels, norms, 3)

    assert torch.equal(chosen_norms, norms.gather(1, indices))


def test_strongest_returns_the_kernels_of_the_chosen_units():
    kernels = _random(4, 6, 3, 3, seed=0)

    indices, _, chosen = strongest(kernels, kernel_norms(kernels), 3)

    assert torch.equal(chosen, _picked(kernels, indices))


def test_outgoing_ranks_target_units_by_the_source_units_column():
    norms = _random(6, 4, seed=1).abs()

    indices, values = outgoing(norms, 2, 3)

    assert indices.tolist() == _brute_force_ranking(norms.T, 2, 3)
    assert values.tolist() == norms[indices, 2].tolist()


def test_outgoing_returns_every_row_when_k_exceeds_them():
    indices, _ = outgoing(_random(6, 4, seed=1).abs(), 0, 10)

    assert sorted(indices.tolist()) == [0, 1, 2, 3, 4, 5]


def test_kernel_size_follows_the_receptive_field_table(small_inception):
    size = kernel_size(small_inception.layer("mixed3a"), small_inception.layer("conv2d2"))

    # (59 − 19) / 4 + 1, from the receptive fields 19 and 59 and conv2d2's stride 4.
    assert size == 11


def test_mobilenet_expansion_reads_the_previous_block_directly(mobilenet):
    result = unit_weights(mobilenet, "features.2.expand")

    assert (result.source_layer, result.mode, result.kernels.shape) == (
        "features.1",
        "direct",
        (96, 16, 1, 1),
    )


def test_mobilenet_direct_kernels_are_the_convolution_times_the_norm_scale(mobilenet):
    conv, norm = mobilenet.module.features[2].conv[0], mobilenet.module.features[2].conv[1]
    expected = conv.weight * _scale(norm).view(-1, 1, 1, 1)

    result = unit_weights(mobilenet, "features.2.expand")

    torch.testing.assert_close(result.kernels, _picked(expected, result.indices))


def test_mobilenet_direct_norms_are_the_kernels_magnitudes(mobilenet):
    conv, norm = mobilenet.module.features[2].conv[0], mobilenet.module.features[2].conv[1]
    # A 1×1 kernel's L2 norm is its one weight's magnitude.
    expected = (conv.weight[:, :, 0, 0] * _scale(norm).view(-1, 1)).abs()

    result = unit_weights(mobilenet, "features.2.expand")

    torch.testing.assert_close(result.norm_matrix, expected)


def test_mobilenet_block_reads_its_expansion_through_three_by_three_kernels(mobilenet):
    result = unit_weights(mobilenet, "features.2", source_layer="features.2.expand")

    assert (result.mode, result.kernels.shape) == ("expanded", (24, 50, 3, 3))


def test_mobilenet_expanded_kernels_are_depthwise_kernels_times_the_projection(mobilenet):
    block = mobilenet.module.features[2].conv
    depthwise = block[3].weight[:, 0] * _scale(block[4]).view(-1, 1, 1)
    projection = block[6].weight[:, :, 0, 0] * _scale(block[7]).view(-1, 1)
    # Hidden unit a reads only expansion unit a, so the product has no sum over channels.
    expected = projection[:, :, None, None] * depthwise[None]

    result = unit_weights(mobilenet, "features.2", source_layer="features.2.expand")

    torch.testing.assert_close(result.kernels, _picked(expected, result.indices))


def test_mobilenet_expanded_norm_matrix_holds_every_kernels_l2_norm(mobilenet):
    block = mobilenet.module.features[2].conv
    depthwise = block[3].weight[:, 0] * _scale(block[4]).view(-1, 1, 1)
    projection = block[6].weight[:, :, 0, 0] * _scale(block[7]).view(-1, 1)
    expected = projection[:, :, None, None] * depthwise[None]

    result = unit_weights(mobilenet, "features.2", source_layer="features.2.expand")

    torch.testing.assert_close(result.norm_matrix, expected.pow(2).sum(dim=(2, 3)).sqrt())


def test_inception_mixed3a_reads_conv2d2_through_eleven_by_eleven_kernels(small_inception):
    result = unit_weights(small_inception, "mixed3a")

    assert (result.source_layer, result.mode, result.kernels.shape) == (
        "conv2d2",
        "expanded",
        (256, 50, 11, 11),
    )


def test_inception_one_by_one_branch_reads_conv2d2_through_the_average_pool(small_inception):
    weight = small_inception.module.mixed3a_1x1_pre_relu_conv.weight[:, :, 0, 0]
    # The 3×3 stride-2 pool before mixed3a sits at the centre of the 11×11 field.
    expected = torch.zeros(64, 192, 11, 11)
    expected[:, :, 4:7, 4:7] = (weight / 9)[:, :, None, None]

    result = unit_weights(small_inception, "mixed3a", units=range(64))

    torch.testing.assert_close(result.kernels, _picked(expected, result.indices))


@pytest.mark.parametrize("architecture", ["mobilenet_v2", "inception_v1"])
def test_every_adjacent_pair_reads_kernels_of_the_receptive_field_size(architecture):
    network = load_builtin(architecture, random_seed=0, input_size=64)
    pairs = list(zip(network.layers, network.layers[1:], strict=False))

    shapes = [
        unit_weights(network, target.name, k=1, units=[0]).kernels.shape[2:] for _, target in pairs
    ]

    assert shapes == [(kernel_size(target, source),) * 2 for source, target in pairs]


def test_requested_units_give_their_rows_in_order(mobilenet):
    everything = unit_weights(mobilenet, "features.2", source_layer="features.2.expand")

    chosen = unit_weights(mobilenet, "features.2", source_layer="features.2.expand", units=[5, 0])

    assert chosen.units.tolist() == [5, 0]
    torch.testing.assert_close(chosen.norm_matrix, everything.norm_matrix[[5, 0]])


def test_units_per_pass_does_not_change_the_weights(mobilenet):
    at_once = unit_weights(mobilenet, "features.2", source_layer="features.2.expand")

    in_passes = unit_weights(
        mobilenet, "features.2", source_layer="features.2.expand", units_per_pass=5
    )

    torch.testing.assert_close(in_passes.norm_matrix, at_once.norm_matrix)


def test_k_is_capped_at_the_source_units(mobilenet):
    result = unit_weights(mobilenet, "features.2.expand", k=50)

    assert result.indices.shape == (96, 16)


def test_norm_matrix_is_float32(mobilenet):
    result = unit_weights(mobilenet, "features.2.expand")

    assert result.norm_matrix.dtype == torch.float32


def test_reading_weights_leaves_the_network_as_it_was(small_inception):
    images = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    before = small_inception.activations(images, ["mixed3b"])["mixed3b"]

    unit_weights(small_inception, "mixed3b", units=[0])

    after = small_inception.activations(images, ["mixed3b"])["mixed3b"]
    assert torch.equal(before, after)


def test_reading_weights_leaves_no_hooks(small_inception):
    unit_weights(small_inception, "mixed3b", units=[0])

    hooked = [name for name, part in small_inception.module.named_modules() if part._forward_hooks]
    assert hooked == []


def test_first_layer_is_refused_with_a_pointer_to_its_rgb_filters(small_mobilenet):
    with pytest.raises(UnsupportedLayer, match="first_layer_weight_images"):
        unit_weights(small_mobilenet, "features.0")


def test_source_layer_after_the_layer_is_refused(small_mobilenet):
    with pytest.raises(ValueError, match="source_layer must come before features.2"):
        unit_weights(small_mobilenet, "features.2", source_layer="features.3")


def test_units_outside_the_layer_are_refused(small_mobilenet):
    with pytest.raises(ValueError, match="units of features.2 are 0 to 23"):
        unit_weights(small_mobilenet, "features.2", units=[24])


def test_k_below_one_is_refused(small_mobilenet):
    with pytest.raises(ValueError, match="k must be at least 1"):
        unit_weights(small_mobilenet, "features.2", k=0)


def test_torchscript_network_is_refused(tmp_path):
    path = tmp_path / "two_layers.pt"
    torch.jit.save(torch.jit.script(_TwoLayers().eval()), str(path))
    network = load_torchscript(path, input_size=32)

    with pytest.raises(UnsupportedLayer, match="receptive fields of first and second"):
        unit_weights(network, "second")
