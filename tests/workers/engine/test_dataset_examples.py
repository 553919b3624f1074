import weakref
from functools import partial

import pytest
import torch
from torch import nn

from workers.engine import dataset_examples as dataset_examples_module
from workers.engine.capture import capture_by_hooks
from workers.engine.dataset_examples import (
    FIELD_OUTLINE,
    context_box,
    crop_image,
    dataset_examples,
    distinct_examples,
    field_in_tile,
    fired_on,
    outline_field,
    receptive_field_crop,
)
from workers.engine.errors import UnknownLayer
from workers.engine.map_statistics import map_statistics
from workers.engine.networks import LayerInfo, LoadedNetwork
from workers.engine.ranking import merge_ranked

# Dataset indices with gaps (as when unreadable images are left out), in batches of odd sizes.
BATCH_INDICES = ([0, 1, 2], [4, 5, 6, 7, 8], [9], [11, 12])
# More than the first, third and fourth batch hold.
K = 4


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.relu = nn.ReLU()
        self.mix = nn.Conv2d(4, 5, 3, padding=1)

    def forward(self, x):
        return self.mix(self.relu(self.conv(x)))


def _tiny_network():
    """A seeded random net: `relu` (ties at 0 and dead units) and `mix` (signed values)."""
    torch.manual_seed(0)
    module = _Tiny()
    layers = [
        LayerInfo("relu", "conv", 0, 4, 6, 6, 3, 2),
        LayerInfo("mix", "conv", 1, 5, 6, 6, 7, 2),
    ]
    paths = {"relu": "relu", "mix": "mix"}
    return LoadedNetwork(
        module,
        preprocess=lambda images: images * 2 - 1,
        capture=partial(capture_by_hooks, module_paths=paths),
        layers=layers,
        input_filters={},
        input_size=12,
        module_paths=paths,
    )


def _random_batches():
    generator = torch.Generator().manual_seed(1)
    return [
        (torch.tensor(indices), torch.rand(len(indices), 3, 12, 12, generator=generator))
        for indices in BATCH_INDICES
    ]


def _full_maps(network, batches, layer):
    """The layer's whole maps for every image, computed batch by batch like the pass does."""
    with torch.inference_mode():
        return torch.cat([network.activations(images, [layer])[layer] for _, images in batches])


def _brute_force(maps, indices, k, *, descending):
    """Per unit: the k images whose spatial extreme is most extreme, ties to lower indices."""
    flat = maps.flatten(2)
    values, positions = flat.max(dim=2) if descending else flat.min(dim=2)
    order = values.T.sort(dim=1, descending=descending, stable=True).indices[:, :k]
    width = maps.shape[3]
    chosen = positions.T.gather(1, order)
    return (
        values.T.gather(1, order),
        indices[order],
        torch.stack([chosen // width, chosen % width], dim=-1),
    )


def _all_indices():
    return torch.tensor([index for batch in BATCH_INDICES for index in batch])


def _use_kernels(monkeypatch, fused):
    """Make the pass use the numba kernels (True) or PyTorch alone (False)."""
    monkeypatch.setattr(
        dataset_examples_module, "map_statistics", partial(map_statistics, fused=fused)
    )
    monkeypatch.setattr(dataset_examples_module, "merge_ranked", partial(merge_ranked, fused=fused))
    if not fused:
        _without_fused_activations(monkeypatch)


def _without_fused_activations(monkeypatch):
    """No activation computes its map's statistics (None: the kernel "does not apply")."""
    monkeypatch.setattr(dataset_examples_module, "clamped_statistics", lambda *args, **kw: None)


@pytest.fixture(params=[True, False], ids=["fused", "torch"])
def statistics_path(request, monkeypatch):
    """Runs the test once with the numba kernels and once with PyTorch alone."""
    _use_kernels(monkeypatch, request.param)


@pytest.mark.parametrize("layer", ["relu", "mix"])
def test_top_k_equals_brute_force_over_all_maps(layer, statistics_path):
    network, batches = _tiny_network(), _random_batches()
    maps = _full_maps(network, batches, layer)

    examples = dataset_examples(network, ["relu", "mix"], batches, k=K)[layer]

    values, images, positions = _brute_force(maps, _all_indices(), K, descending=True)
    assert torch.equal(examples.top.values, values)
    assert torch.equal(examples.top.images, images)
    assert torch.equal(examples.top.positions, positions)


@pytest.mark.parametrize("layer", ["relu", "mix"])
def test_bottom_k_equals_brute_force_over_all_maps(layer, statistics_path):
    network, batches = _tiny_network(), _random_batches()
    maps = _full_maps(network, batches, layer)

    examples = dataset_examples(network, ["relu", "mix"], batches, k=K)[layer]

    values, images, positions = _brute_force(maps, _all_indices(), K, descending=False)
    assert torch.equal(examples.bottom.values, values)
    assert torch.equal(examples.bottom.images, images)
    assert torch.equal(examples.bottom.positions, positions)


@pytest.mark.parametrize("layer", ["relu", "mix"])
def test_statistics_equal_brute_force_over_all_maps(layer, statistics_path):
    network, batches = _tiny_network(), _random_batches()
    maps = _full_maps(network, batches, layer).double()

    stats = dataset_examples(network, ["relu", "mix"], batches, k=K)[layer].stats

    torch.testing.assert_close(stats.mean, maps.mean(dim=(0, 2, 3)).float())
    assert torch.equal(stats.max, maps.amax(dim=(0, 2, 3)).float())
    torch.testing.assert_close(
        stats.fraction_active, (maps > 0).double().mean(dim=(0, 2, 3)).float()
    )
    assert stats.count == 11 * 6 * 6


def test_fused_kernel_and_torch_path_find_the_same_examples(monkeypatch):
    network, batches = _tiny_network(), _random_batches()
    _use_kernels(monkeypatch, True)
    fused = dataset_examples(network, ["relu", "mix"], batches, k=K)
    _use_kernels(monkeypatch, False)

    reduced = dataset_examples(network, ["relu", "mix"], batches, k=K)

    for layer in ("relu", "mix"):
        for side in ("top", "bottom"):
            mine, theirs = getattr(fused[layer], side), getattr(reduced[layer], side)
            assert torch.equal(mine.values, theirs.values)
            assert torch.equal(mine.images, theirs.images)
            assert torch.equal(mine.positions, theirs.positions)
        assert torch.equal(fused[layer].stats.max, reduced[layer].stats.max)
        assert torch.equal(fused[layer].stats.fraction_active, reduced[layer].stats.fraction_active)
        torch.testing.assert_close(fused[layer].stats.mean, reduced[layer].stats.mean)


def test_k_larger_than_the_dataset_keeps_every_image():
    network, batches = _tiny_network(), _random_batches()

    examples = dataset_examples(network, ["mix"], batches, k=20)["mix"]

    assert examples.top.values.shape == (5, 11)
    assert sorted(examples.top.images[0].tolist()) == _all_indices().tolist()


def test_equal_values_keep_the_earlier_image():
    network = _bright_pixel_network()
    blank = [(torch.tensor(indices), _blank(len(indices))) for indices in BATCH_INDICES]

    examples = dataset_examples(network, ["wide"], blank, k=K)["wide"]

    assert examples.top.images.tolist() == [[0, 1, 2, 4]]
    assert examples.bottom.images.tolist() == [[0, 1, 2, 4]]
    assert examples.top.positions.tolist() == [[[0, 0]] * 4]


def test_results_hold_k_examples_per_unit_and_layer_statistics():
    network, batches = _tiny_network(), _random_batches()

    examples = dataset_examples(network, ["relu", "mix"], batches, k=K)

    shapes = {
        name: (
            layer.top.values.shape,
            layer.top.images.shape,
            layer.top.positions.shape,
            layer.bottom.values.shape,
            layer.stats.mean.shape,
            layer.images,
        )
        for name, layer in examples.items()
    }
    assert shapes == {
        "relu": ((4, K), (4, K), (4, K, 2), (4, K), (4,), 11),
        "mix": ((5, K), (5, K), (5, K, 2), (5, K), (5,), 11),
    }


class _WatchedMaps:
    """A network whose maps are watched: at each forward it notes how many of the previous
    batch's maps are still alive, and at each map how many of this batch's earlier ones are."""

    def __init__(self, network):
        self.network = network
        self.device = network.device
        self.module, self.module_paths = network.module, network.module_paths
        self.previous = []
        self.alive_at_next_forward = []
        self.alive_at_each_map = []

    def layer(self, name):
        return self.network.layer(name)

    def stream_activations(self, images, layer_names, on_map):
        self.alive_at_next_forward.append(sum(ref() is not None for ref in self.previous))
        self.previous = []
        alive_at_each_map = []

        def watched(name, maps):
            alive_at_each_map.append(sum(ref() is not None for ref in self.previous))
            self.previous.append(weakref.ref(maps))
            on_map(name, maps)

        self.network.stream_activations(images, layer_names, watched)
        self.alive_at_each_map.append(alive_at_each_map)


def test_no_activation_map_outlives_its_batch():
    watched = _WatchedMaps(_tiny_network())

    dataset_examples(watched, ["relu", "mix"], _random_batches(), k=K)

    assert watched.alive_at_next_forward == [0, 0, 0, 0]
    assert [ref() for ref in watched.previous] == [None, None]


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "torch"])
def test_the_pass_holds_no_map_after_reducing_it(small_mobilenet, monkeypatch, fused):
    # Of the maps handed over before, only the running block's input is alive at each new
    # one (the forward holds it); a pass that kept the batch's maps would hold them all.
    _use_kernels(monkeypatch, fused)
    watched = _WatchedMaps(small_mobilenet)
    layers = ["features.0", "features.1.depthwise", "features.1", "features.2.expand"]
    batches = [
        (torch.arange(2), torch.rand(2, 3, 64, 64)),
        (torch.arange(2, 4), torch.rand(2, 3, 64, 64)),
    ]

    dataset_examples(watched, layers, batches, k=1)

    assert watched.alive_at_each_map == [[0, 1, 1, 1], [0, 1, 1, 1]]


def test_a_pass_runs_the_network_once_per_batch():
    watched = _WatchedMaps(_tiny_network())

    dataset_examples(watched, ["relu", "mix"], _random_batches(), k=K)

    assert len(watched.alive_at_next_forward) == 4


def test_progress_is_called_after_each_batch_with_the_images_seen():
    seen = []

    dataset_examples(_tiny_network(), ["mix"], _random_batches(), k=K, progress=seen.append)

    assert seen == [3, 8, 9, 11]


def test_unknown_layer_is_refused_before_any_batch():
    with pytest.raises(UnknownLayer):
        dataset_examples(_tiny_network(), ["mix", "fc"], iter(()))


def test_k_below_one_is_refused():
    with pytest.raises(ValueError, match="k must be at least 1"):
        dataset_examples(_tiny_network(), ["mix"], _random_batches(), k=0)


class _BrightPixel(nn.Module):
    """`spot` reads the centre pixel of each 3×3 window at stride 2, `wide` does the same on
    `spot`: a white pixel at (4y, 4x) lights `wide` at (y, x) with 1 and nothing else."""

    def __init__(self):
        super().__init__()
        self.spot = nn.Conv2d(3, 1, 3, stride=2, padding=1, bias=False)
        self.wide = nn.Conv2d(1, 1, 3, stride=2, padding=1, bias=False)
        with torch.no_grad():
            self.spot.weight.zero_()[0, :, 1, 1] = 1 / 3
            self.wide.weight.zero_()[0, 0, 1, 1] = 1

    def forward(self, x):
        return self.wide(self.spot(x))


def _bright_pixel_network():
    # Receptive fields: spot 3 px at stride 2; wide 3 + (3 - 1) · 2 = 7 px at stride 4.
    return LoadedNetwork(
        _BrightPixel(),
        preprocess=nn.Identity(),
        capture=partial(capture_by_hooks, module_paths={"spot": "spot", "wide": "wide"}),
        layers=[
            LayerInfo("spot", "conv", 0, 1, 16, 16, 3, 2),
            LayerInfo("wide", "conv", 1, 1, 8, 8, 7, 4),
        ],
        input_filters={},
        input_size=32,
    )


def _blank(count):
    return torch.zeros(count, 3, 32, 32)


def _with_bright_pixel(y, x):
    """Five black 32 px images in two batches; image 3 has one white pixel at (y, x)."""
    images = _blank(5)
    images[3, :, y, x] = 1.0
    return [(torch.tensor([0, 1, 2]), images[:3]), (torch.tensor([3, 4]), images[3:])]


def _top_example(y, x):
    network = _bright_pixel_network()
    examples = dataset_examples(network, ["wide"], _with_bright_pixel(y, x), k=2)["wide"]
    return network, examples


def test_top_example_is_the_image_with_the_bright_pixel():
    _, examples = _top_example(12, 20)

    assert examples.top.images[0, 0].item() == 3
    assert examples.top.values[0, 0].item() == 1.0
    assert examples.top.positions[0, 0].tolist() == [3, 5]


def test_crop_is_the_receptive_field_centred_on_the_bright_pixel():
    network, examples = _top_example(12, 20)

    box = receptive_field_crop(32, network.layer("wide"), examples.top.positions[0, 0])

    assert box == (12 - 3, 20 - 3, 12 + 4, 20 + 4)


def test_crop_is_clipped_at_the_image_border():
    network, examples = _top_example(0, 28)

    box = receptive_field_crop(32, network.layer("wide"), examples.top.positions[0, 0])

    assert box == (0, 25, 4, 32)


def test_crop_without_a_known_receptive_field_is_the_whole_image():
    layer = LayerInfo("output", "layer", 0, 8, 4, 4, None, None)

    assert receptive_field_crop(32, layer, (2, 3)) == (0, 0, 32, 32)


def test_crop_image_cuts_the_box():
    image = torch.arange(3 * 6 * 8, dtype=torch.float32).reshape(3, 6, 8)

    region = crop_image(image, (1, 2, 4, 7))

    assert torch.equal(region, image[:, 1:4, 2:7])


def test_crop_image_to_out_size_keeps_the_shape_on_white():
    image = torch.zeros(3, 8, 8)

    tile = crop_image(image, (0, 0, 8, 4), out_size=4)

    assert tile.shape == (3, 4, 4)
    assert tile[0].tolist() == [[1.0, 0.0, 0.0, 1.0]] * 4


def test_the_pass_on_cpu_keeps_freed_memory(monkeypatch):
    calls = []
    monkeypatch.setattr(dataset_examples_module, "keep_freed_memory", lambda: calls.append(True))

    dataset_examples(_tiny_network(), ["relu"], _random_batches(), k=K)

    assert calls == [True]


def _hook_reductions(monkeypatch):
    """The channel counts of the maps that hooks reduce, in order."""
    reduced_from_hooks = []
    plain = dataset_examples_module.map_statistics
    monkeypatch.setattr(
        dataset_examples_module,
        "map_statistics",
        lambda maps, **kwargs: reduced_from_hooks.append(maps.shape[1]) or plain(maps, **kwargs),
    )
    return reduced_from_hooks


def test_a_relu_layer_is_reduced_by_its_activation_not_read_again(monkeypatch):
    reduced_from_hooks = _hook_reductions(monkeypatch)

    dataset_examples(_tiny_network(), ["relu", "mix"], _random_batches(), k=K)

    # Only `mix` (5 units, a convolution) is read again by its hook, once per batch.
    assert reduced_from_hooks == [5] * len(BATCH_INDICES)


def test_a_relu_map_holding_a_nan_is_left_to_the_relu_and_its_hook(monkeypatch):
    reduced_from_hooks = _hook_reductions(monkeypatch)
    batches = _random_batches()
    batches[1][1][0, :, 5, 5] = float("nan")

    results = dataset_examples(_tiny_network(), ["relu", "mix"], batches, k=K)

    # The kernel's clamp would turn the NaN into a number: in the batch holding one, `relu`
    # (4 units) is reduced from its hook after torch's ReLU, which keeps it.
    assert reduced_from_hooks == [5, 4, 5, 5, 5]
    assert results["relu"].stats.mean.isnan().any()


def test_the_pass_gives_the_same_results_with_and_without_fused_activations(monkeypatch):
    fused = dataset_examples(_tiny_network(), ["relu", "mix"], _random_batches(), k=K)
    _without_fused_activations(monkeypatch)
    plain = dataset_examples(_tiny_network(), ["relu", "mix"], _random_batches(), k=K)

    for layer in ("relu", "mix"):
        for ranked in ("top", "bottom"):
            for field in ("values", "images", "positions"):
                expected = getattr(getattr(plain[layer], ranked), field)
                assert torch.equal(getattr(getattr(fused[layer], ranked), field), expected)
        torch.testing.assert_close(fused[layer].stats.mean, plain[layer].stats.mean)
        assert torch.equal(fused[layer].stats.fraction_active, plain[layer].stats.fraction_active)


def test_the_activations_are_put_back_after_the_pass_and_after_a_failure():
    network = _tiny_network()
    relu = network.module.relu

    dataset_examples(network, ["relu", "mix"], _random_batches(), k=K)
    assert network.module.relu is relu

    def failing_batches():
        yield from _random_batches()[:1]
        raise OSError("unreadable image")

    with pytest.raises(OSError):
        dataset_examples(network, ["relu", "mix"], failing_batches(), k=K)
    assert network.module.relu is relu
    assert not network.module.relu._forward_hooks


class _SkipsALayer(_WatchedMaps):
    """A network whose forward never makes `mix`'s map (as a broken capture would)."""

    def stream_activations(self, images, layer_names, on_map):
        self.network.stream_activations(images, ["relu"], on_map)


def test_a_layer_the_forward_never_made_is_an_error_not_garbage():
    with pytest.raises(RuntimeError, match="no map for mix"):
        dataset_examples(_SkipsALayer(_tiny_network()), ["relu", "mix"], _random_batches(), k=K)


@pytest.mark.parametrize("layer", ["relu", "mix"])
def test_each_images_spatial_maximum_is_kept_in_the_order_seen(layer, statistics_path):
    network, batches = _tiny_network(), _random_batches()
    maps = _full_maps(network, batches, layer)

    examples = dataset_examples(network, ["relu", "mix"], batches, k=K)[layer]

    assert torch.equal(examples.maxima, maps.flatten(2).amax(dim=2).T)
    assert torch.equal(examples.seen, _all_indices())


@pytest.mark.parametrize("layer", ["relu", "mix"])
def test_fired_counts_the_images_whose_map_has_a_positive_position(layer, statistics_path):
    network, batches = _tiny_network(), _random_batches()
    maps = _full_maps(network, batches, layer)

    examples = dataset_examples(network, ["relu", "mix"], batches, k=K)[layer]

    assert examples.stats.fired.tolist() == (maps.flatten(2).amax(dim=2) > 0).sum(0).tolist()


def test_a_unit_that_is_zero_on_every_image_never_fired():
    network = _bright_pixel_network()
    with torch.no_grad():
        network.module.wide.weight.neg_()

    examples = dataset_examples(network, ["wide", "spot"], _with_bright_pixel(12, 20), k=2)

    assert (examples["wide"].stats.fired.tolist(), examples["spot"].stats.fired.tolist()) == (
        [0],
        [1],
    )


def test_fired_on_ignores_zero_negative_and_nan_maxima():
    maxima = torch.tensor([[0.0, -1.0, float("nan"), 0.5], [6.0, 6.0, 0.0, 1e-6]])

    assert fired_on(maxima).tolist() == [1, 3]


def test_a_small_field_is_shown_in_a_32_pixel_context_centred_on_it():
    assert context_box(224, (99, 49, 102, 52)) == (84, 34, 116, 66)


def test_the_context_of_a_field_at_the_border_stays_inside_the_image():
    assert context_box(224, (0, 222, 2, 224)) == (0, 192, 32, 224)


def test_a_field_as_large_as_the_context_is_its_own_crop():
    assert context_box(224, (10, 20, 50, 60)) == (10, 20, 50, 60)


def test_the_context_of_an_image_smaller_than_it_is_the_whole_image():
    assert context_box(16, (6, 6, 9, 9)) == (0, 0, 16, 16)


def test_the_field_is_placed_in_the_tile_at_the_crops_scale():
    # A 3 px field in a 32 px crop, drawn at 64 px: twice as large, 2 · 15 px from the corner.
    assert field_in_tile((84, 34, 116, 66), (99, 49, 102, 52), 64) == (30, 30, 36, 36)


def test_the_outline_is_drawn_just_outside_the_field():
    tile = torch.zeros(3, 8, 8)

    outline_field(tile, (3, 3, 5, 5))

    drawn = (tile == torch.tensor(FIELD_OUTLINE)[:, None, None]).all(dim=0)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[2:6, 2:6] = True
    expected[3:5, 3:5] = False
    assert torch.equal(drawn, expected)


def test_the_outline_leaves_out_what_falls_outside_the_tile():
    tile = torch.zeros(3, 4, 4)

    outline_field(tile, (0, 0, 2, 2))

    drawn = (tile == torch.tensor(FIELD_OUTLINE)[:, None, None]).all(dim=0)
    assert drawn.nonzero().tolist() == [[0, 2], [1, 2], [2, 0], [2, 1], [2, 2]]


def test_overlapping_fields_in_one_file_keep_only_the_strongest():
    fields = [
        ("a.png", (10, 10, 20, 20)),
        ("a.png", (12, 12, 22, 22)),  # 64 of 100 px shared with the first: a near-duplicate
        ("b.png", (10, 10, 20, 20)),  # the same place in another file
        ("a.png", (15, 15, 25, 25)),  # 25 px shared with the first: distinct
    ]

    assert distinct_examples(fields, 10) == [0, 2, 3]


def test_a_small_field_inside_a_larger_one_of_the_same_file_is_a_near_duplicate():
    # The same place seen through crops of two scales: the field of the finer crop is smaller.
    fields = [("a.png", (10.0, 10.0, 16.0, 16.0)), ("a.png", (11.0, 11.0, 14.0, 14.0))]

    assert distinct_examples(fields, 10) == [0]


def test_distinct_examples_stop_at_k():
    fields = [(f"{number}.png", (0, 0, 4, 4)) for number in range(5)]

    assert distinct_examples(fields, 3) == [0, 1, 2]
