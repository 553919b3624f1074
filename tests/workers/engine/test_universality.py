import copy
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from workers.engine.capture import capture_by_hooks
from workers.engine.datasets import batches as dataset_batches
from workers.engine.datasets import demo_dataset
from workers.engine.networks import LayerInfo, LoadedNetwork, bundled_weights_path, load_builtin
from workers.engine.universality import (
    LayerSide,
    PairMoments,
    best_matches,
    layer_correlation,
    pooled_activations,
)

# Dataset indices in batches of odd sizes, as `datasets.batches` gives them.
BATCH_INDICES = ([0, 1, 2], [3, 4, 5, 6, 7], [8], [9, 10, 11, 12])
IMAGES = 13
CHANNELS = 8
# Units of the tiny network's `relu` layer: one dead (always 0) and one stuck at 0.5.
DEAD, STUCK = 2, 5
# Units of MobileNetV2's block 3 whose hidden channels the permuted copy reorders.
BLOCK3_HIDDEN = 144
DEMO_IMAGES = 48


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, CHANNELS, 3, padding=1)
        self.norm = nn.BatchNorm2d(CHANNELS)
        self.relu = nn.ReLU()
        self.mix = nn.Conv2d(CHANNELS, 5, 3, padding=1)

    def forward(self, x):
        return self.mix(self.relu(self.norm(self.conv(x))))


def _tiny_module():
    torch.manual_seed(0)
    module = _Tiny()
    with torch.no_grad():
        module.norm.running_mean.uniform_(-0.2, 0.2)
        module.norm.running_var.uniform_(0.5, 2.0)
        module.norm.weight.uniform_(0.5, 1.5)
        module.norm.bias.uniform_(-0.1, 0.1)
        for unit, value in ((DEAD, -1.0), (STUCK, 0.5)):
            module.conv.weight[unit] = 0.0
            module.conv.bias[unit] = 0.0
            module.norm.running_mean[unit] = 0.0
            module.norm.running_var[unit] = 1.0 - module.norm.eps
            module.norm.weight[unit] = 1.0
            module.norm.bias[unit] = value
    return module


def _loaded(module, input_size=12):
    layers = [
        LayerInfo("relu", "conv", 0, CHANNELS, input_size, input_size, 3, 1),
        LayerInfo("mix", "conv", 1, 5, input_size, input_size, 5, 1),
    ]
    return LoadedNetwork(
        module,
        preprocess=lambda images: images * 2 - 1,
        capture=partial(capture_by_hooks, module_paths={"relu": "relu", "mix": "mix"}),
        layers=layers,
        input_filters={},
        input_size=input_size,
    )


def _random_batches(size=12):
    generator = torch.Generator().manual_seed(1)
    return [
        (torch.tensor(indices), torch.rand(len(indices), 3, size, size, generator=generator))
        for indices in BATCH_INDICES
    ]


def _permuted_tiny(module, permutation):
    """A copy whose `relu` units are reordered (conv, norm and mix's inputs alike)."""
    permuted = copy.deepcopy(module)
    with torch.no_grad():
        permuted.conv.weight.copy_(module.conv.weight[permutation])
        permuted.conv.bias.copy_(module.conv.bias[permutation])
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(permuted.norm, name).copy_(getattr(module.norm, name)[permutation])
        permuted.mix.weight.copy_(module.mix.weight[:, permutation])
    return permuted


def _self_matches(correlation, k=1):
    return best_matches(
        correlation.correlation, correlation.constant_first, correlation.constant_second, k
    )


def test_a_layer_against_itself_matches_each_varying_unit_to_itself_with_r_one():
    network = _loaded(_tiny_module())

    found = layer_correlation(
        LayerSide(network, "relu"), LayerSide(network, "relu"), _random_batches()
    )

    matches = _self_matches(found)
    varying = [unit for unit in range(CHANNELS) if unit not in (DEAD, STUCK)]
    assert matches.units[varying, 0].tolist() == varying
    torch.testing.assert_close(
        matches.r[varying, 0], torch.ones(len(varying), dtype=torch.float64), rtol=0, atol=1e-6
    )
    assert found.images == IMAGES


def test_constant_units_are_reported_as_constant_with_no_match_and_no_nan():
    network = _loaded(_tiny_module())

    found = layer_correlation(
        LayerSide(network, "relu"), LayerSide(network, "relu"), _random_batches()
    )

    matches = _self_matches(found, k=3)
    assert found.constant_first.nonzero().flatten().tolist() == [DEAD, STUCK]
    assert found.constant_second.nonzero().flatten().tolist() == [DEAD, STUCK]
    assert matches.units[[DEAD, STUCK]].tolist() == [[-1, -1, -1], [-1, -1, -1]]
    assert not torch.isnan(found.correlation).any()
    assert not torch.isnan(matches.r).any()
    assert found.correlation[DEAD].abs().sum() == 0
    assert found.correlation[:, STUCK].abs().sum() == 0
    torch.testing.assert_close(
        found.mean_first[[DEAD, STUCK]], torch.tensor([0.0, 0.5], dtype=torch.float64)
    )


def test_constant_units_of_the_other_layer_are_never_a_match():
    network = _loaded(_tiny_module())
    found = layer_correlation(
        LayerSide(network, "relu"), LayerSide(network, "relu"), _random_batches()
    )

    matches = _self_matches(found, k=CHANNELS)

    assert (matches.units[0, : CHANNELS - 2] >= 0).all()
    assert set(matches.units[0].tolist()) == set(range(CHANNELS)) - {DEAD, STUCK} | {-1}
    assert matches.units[0, CHANNELS - 2 :].tolist() == [-1, -1]


def test_a_copy_with_permuted_units_is_matched_back_to_the_original_units():
    module = _tiny_module()
    permutation = torch.tensor([3, 7, 0, 5, 1, 6, 2, 4])
    original, permuted = _loaded(module), _loaded(_permuted_tiny(module, permutation))

    found = layer_correlation(
        LayerSide(original, "relu"), LayerSide(permuted, "relu"), _random_batches()
    )

    # Unit u of the copy is unit permutation[u] of the original.
    matches = _self_matches(found)
    expected = torch.argsort(permutation)
    varying = [unit for unit in range(CHANNELS) if unit not in (DEAD, STUCK)]
    assert matches.units[varying, 0].tolist() == expected[varying].tolist()
    assert found.constant_second.nonzero().flatten().tolist() == sorted(
        expected[[DEAD, STUCK]].tolist()
    )


def test_the_permuted_copy_computes_the_same_later_layer():
    module = _tiny_module()
    permuted = _permuted_tiny(module, torch.tensor([3, 7, 0, 5, 1, 6, 2, 4]))

    found = layer_correlation(
        LayerSide(_loaded(module), "mix"), LayerSide(_loaded(permuted), "mix"), _random_batches()
    )

    torch.testing.assert_close(
        found.correlation.diagonal(), torch.ones(5, dtype=torch.float64), rtol=0, atol=1e-6
    )


def test_the_streamed_correlation_equals_numpy_corrcoef_over_every_pooled_activation():
    network = _loaded(_tiny_module())
    batches = _random_batches()
    with torch.inference_mode():
        pooled = [pooled_activations(network, ["relu", "mix"], images) for _, images in batches]
    relu = torch.cat([p["relu"] for p in pooled]).numpy()
    mix = torch.cat([p["mix"] for p in pooled]).numpy()

    found = layer_correlation(LayerSide(network, "relu"), LayerSide(network, "mix"), batches)

    varying = [unit for unit in range(CHANNELS) if unit not in (DEAD, STUCK)]
    expected = np.corrcoef(relu[:, varying], mix, rowvar=False)[: len(varying), len(varying) :]
    np.testing.assert_allclose(found.correlation.numpy()[varying], expected, rtol=0, atol=1e-12)


def test_a_large_mean_does_not_cost_precision():
    generator = torch.Generator().manual_seed(2)
    first = torch.randn(40, 3, generator=generator, dtype=torch.float64)
    second = torch.randn(40, 4, generator=generator, dtype=torch.float64)
    moments = PairMoments(3, 4, "cpu")
    for rows in torch.arange(40).split(7):
        moments.add(first[rows] + 1e5, second[rows] - 3e4)

    found = moments.correlation()

    expected = np.corrcoef(first.numpy(), second.numpy(), rowvar=False)[:3, 3:]
    np.testing.assert_allclose(found.correlation.numpy(), expected, rtol=0, atol=1e-9)


def test_the_statistics_kept_do_not_grow_with_the_number_of_images():
    generator = torch.Generator().manual_seed(3)
    few, many = PairMoments(6, 9, "cpu"), PairMoments(6, 9, "cpu")
    few.add(torch.randn(4, 6, generator=generator), torch.randn(4, 9, generator=generator))
    for _ in range(50):
        many.add(torch.randn(16, 6, generator=generator), torch.randn(16, 9, generator=generator))

    def sizes(moments):
        return {
            name: tuple(value.shape)
            for name, value in vars(moments).items()
            if isinstance(value, torch.Tensor)
        }

    assert sizes(few) == sizes(many)
    assert sizes(many)["cross"] == (6, 9)
    assert sum(np.prod(shape) for shape in sizes(many).values()) == 6 * 9 + 3 * 6 + 3 * 9
    assert (few.count, many.count) == (4, 800)


def test_progress_follows_the_images_seen_after_each_batch():
    network = _loaded(_tiny_module())
    seen = []

    found = layer_correlation(
        LayerSide(network, "relu"),
        LayerSide(network, "mix"),
        _random_batches(),
        progress=seen.append,
    )

    assert seen == [3, 8, 9, 13]
    assert found.images == IMAGES


def _resized(images, size):
    return F.interpolate(images, size=(size, size), mode="bilinear", antialias=True)


def test_networks_with_different_input_sizes_see_the_same_images_resized():
    module = _tiny_module()
    small, large = _loaded(module, input_size=12), _loaded(copy.deepcopy(module), input_size=24)
    batches = _random_batches(size=24)
    with torch.inference_mode():
        seen_large = torch.cat([pooled_activations(large, ["relu"], b)["relu"] for _, b in batches])
        seen_small = torch.cat(
            [
                pooled_activations(
                    small,
                    ["relu"],
                    F.interpolate(b, size=(12, 12), mode="bilinear", antialias=True),
                )["relu"]
                for _, b in batches
            ]
        )

    found = layer_correlation(LayerSide(large, "relu"), LayerSide(small, "relu"), batches)

    assert found.constant_first.tolist() == (seen_large.std(dim=0) == 0).tolist()
    assert found.constant_second.tolist() == (seen_small.std(dim=0) == 0).tolist()
    rows, columns = (~found.constant_first).nonzero(), (~found.constant_second).flatten()
    with np.errstate(invalid="ignore"):
        # NaN for the constant units, which are compared apart above.
        expected = np.corrcoef(seen_large.T, seen_small.T)[:CHANNELS, CHANNELS:]
    np.testing.assert_allclose(
        found.correlation[rows, columns].numpy(), expected[rows, columns], rtol=0, atol=1e-9
    )


def test_ties_go_to_the_lower_unit_index():
    correlation = torch.tensor([[0.5, 0.9, 0.9, 0.1]], dtype=torch.float64)
    none = torch.zeros(4, dtype=torch.bool)

    matches = best_matches(correlation, torch.zeros(1, dtype=torch.bool), none, 3)

    assert matches.units.tolist() == [[1, 2, 0]]
    assert matches.r.tolist() == [[0.9, 0.9, 0.5]]


def _permute_block3_hidden(network, permutation):
    """Reorder block 3's 144 hidden channels throughout the block: its output is unchanged."""
    block = network.module.features[3].conv
    with torch.no_grad():
        for conv, norm in ((block[0], block[1]), (block[3], block[4])):
            conv.weight.copy_(conv.weight[permutation])
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(norm, name).copy_(getattr(norm, name)[permutation])
        block[6].weight.copy_(block[6].weight[:, permutation])
    return network


@pytest.fixture(scope="module")
def pretrained_pair():
    """The pretrained MobileNetV2 and a copy with block 3's hidden channels permuted."""
    path = bundled_weights_path("mobilenet_v2")
    permutation = torch.randperm(BLOCK3_HIDDEN, generator=torch.Generator().manual_seed(4))
    original = load_builtin("mobilenet_v2", weights_path=path)
    permuted = _permute_block3_hidden(load_builtin("mobilenet_v2", weights_path=path), permutation)
    return original, permuted, permutation


@pytest.fixture(scope="module")
def demo_batches():
    """DEMO_IMAGES crops spread over the demo dataset, decoded once, in batches of 16."""
    dataset = demo_dataset(size=224)
    dataset.images = dataset.images[:: len(dataset) // DEMO_IMAGES][:DEMO_IMAGES]
    return list(dataset_batches(dataset, 16, prefetch=False))


@pytest.mark.parametrize("layer", ["features.3.expand", "features.3.depthwise"])
def test_pretrained_mobilenet_against_a_channel_permuted_copy_recovers_the_permutation(
    pretrained_pair, demo_batches, layer
):
    original, permuted, permutation = pretrained_pair

    found = layer_correlation(LayerSide(original, layer), LayerSide(permuted, layer), demo_batches)

    matches = _self_matches(found)
    varying = (~found.constant_first).nonzero().flatten()
    assert found.images == DEMO_IMAGES
    assert len(varying) > BLOCK3_HIDDEN // 2
    assert matches.units[varying, 0].tolist() == torch.argsort(permutation)[varying].tolist()
    assert matches.r[varying, 0].min() > 1 - 1e-6
    assert torch.equal(found.constant_second, found.constant_first[permutation])


def test_the_permuted_pretrained_copy_computes_the_same_block_output(pretrained_pair, demo_batches):
    original, permuted, _ = pretrained_pair
    images = demo_batches[0][1]

    with torch.inference_mode():
        before = original.activations(images, ["features.3"])["features.3"]
        after = permuted.activations(images, ["features.3"])["features.3"]

    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)
