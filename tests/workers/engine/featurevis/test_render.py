import numpy as np
import pytest
import torch

from workers.engine.featurevis import render
from workers.engine.featurevis.render import render_units
from workers.engine.featurevis.speedups.fast import render_copy

CPU = torch.device("cpu")
FEW = {"steps": 4, "size": 12}


def pixels(renders):
    return np.stack([r.rgb.astype(int) for r in renders])


def curves(renders):
    return torch.tensor([[value for _, value in r.curve] for r in renders])


def forward_hooks(module):
    return sum(len(m._forward_hooks) for m in module.modules())


def test_renders_are_rgb_uint8_images_of_the_requested_size(tiny_network):
    (result,) = render_units(tiny_network, "second", [3], **FEW)

    assert result.rgb.dtype == np.uint8
    assert result.rgb.shape == (12, 12, 3)


def test_renders_come_back_in_unit_order_with_their_variant(tiny_network):
    results = render_units(tiny_network, "second", [4, 1, 2], objective="negative", **FEW)

    assert [(r.unit, r.variant) for r in results] == [
        (4, "negative"),
        (1, "negative"),
        (2, "negative"),
    ]


def test_batched_render_equals_per_unit_renders_without_transforms(tiny_network):
    batched = render_units(tiny_network, "second", [0, 1, 2], transforms=False, **FEW)
    alone = [
        render_units(tiny_network, "second", [unit], transforms=False, **FEW)[0]
        for unit in (0, 1, 2)
    ]

    assert np.abs(pixels(batched) - pixels(alone)).max() <= 1
    torch.testing.assert_close(curves(batched), curves(alone))


def test_batched_render_equals_per_unit_renders_with_transforms(tiny_network):
    batched = render_units(tiny_network, "second", [0, 1, 2], **FEW)
    alone = [render_units(tiny_network, "second", [unit], **FEW)[0] for unit in (0, 1, 2)]

    assert np.abs(pixels(batched) - pixels(alone)).max() <= 1
    torch.testing.assert_close(curves(batched), curves(alone))


def test_layers_after_the_target_never_run(tiny_network):
    # tiny_network's last module raises if it is ever called.
    (result,) = render_units(tiny_network, "second", [0], **FEW)

    assert result.unit == 0


def test_no_hooks_remain_after_100_renders(tiny_network):
    for _ in range(100):
        render_units(tiny_network, "first", [0, 1], steps=1, size=8)

    assert forward_hooks(tiny_network.module) == 0
    assert forward_hooks(render_copy(tiny_network, CPU).module) == 0


def test_rendering_computes_no_weight_gradients(tiny_network):
    render_units(tiny_network, "second", [0], **FEW)

    parameters = list(render_copy(tiny_network, CPU).module.parameters())
    assert all(parameter.grad is None for parameter in parameters)


def test_curve_samples_every_eighth_step_and_the_last(tiny_network):
    (result,) = render_units(tiny_network, "second", [0], steps=18, size=8)

    assert [step for step, _ in result.curve] == [0, 8, 16, 17]


def test_final_activation_is_the_units_mean_and_max_on_the_final_image(tiny_network):
    (result,) = render_units(tiny_network, "second", [5], **FEW)
    image = torch.from_numpy(result.rgb).permute(2, 0, 1)[None].float() / 255

    unit_map = tiny_network.activations(image, ["second"])["second"][0, 5]

    assert result.final_activation.mean == pytest.approx(unit_map.mean().item(), abs=0.02)
    assert result.final_activation.max == pytest.approx(unit_map.max().item(), abs=0.02)


def test_channel_render_increases_the_activation_of_a_real_unit(pretrained_mobilenet):
    (result,) = render_units(
        pretrained_mobilenet, "features.2.expand", [5], steps=17, size=32, transforms=False
    )

    assert result.curve[-1][1] > result.curve[0][1] + 0.5


def test_negative_render_lowers_the_activation_of_a_real_unit(pretrained_mobilenet):
    (result,) = render_units(
        pretrained_mobilenet,
        "features.1",
        [3],
        objective="negative",
        steps=17,
        size=32,
        transforms=False,
    )

    assert -result.curve[-1][1] < -result.curve[0][1] - 0.1


def test_diversity_renders_differing_images_of_each_unit(tiny_network):
    results = render_units(
        tiny_network, "second", [1, 4], objective="diversity", diversity=3, **FEW
    )

    assert [(r.unit, r.variant) for r in results] == [
        (1, "diversity-0"),
        (1, "diversity-1"),
        (1, "diversity-2"),
        (4, "diversity-0"),
        (4, "diversity-1"),
        (4, "diversity-2"),
    ]
    assert not np.array_equal(results[0].rgb, results[1].rgb)


def test_diversity_couples_only_the_images_of_one_unit(tiny_network):
    together = render_units(tiny_network, "second", [1, 4], objective="diversity", **FEW)
    alone = render_units(tiny_network, "second", [1], objective="diversity", **FEW)

    assert np.abs(pixels(together[:4]) - pixels(alone)).max() <= 1


def test_on_batch_is_called_once_per_batch_with_progress(tiny_network):
    calls = []

    render_units(
        tiny_network,
        "second",
        [0, 1, 2, 3, 4],
        batch_size=2,
        on_batch=lambda renders, done, total: calls.append(
            ([r.unit for r in renders], done, total)
        ),
        **FEW,
    )

    assert calls == [([0, 1], 2, 5), ([2, 3], 4, 5), ([4], 5, 5)]


def test_a_layer_is_split_into_batches_of_equal_size(tiny_network):
    sizes = []

    render_units(
        tiny_network,
        "second",
        [0, 1, 2, 3, 4, 5],
        batch_size=4,
        on_batch=lambda renders, done, total: sizes.append(len(renders)),
        **FEW,
    )

    # Two batches are needed; 3 and 3 images, not 4 and 2 (one shape to compile and plan).
    assert sizes == [3, 3]


def test_diversity_batches_hold_whole_groups(tiny_network):
    calls = []

    render_units(
        tiny_network,
        "second",
        [0, 1],
        objective="diversity",
        diversity=2,
        batch_size=3,
        on_batch=lambda renders, done, total: calls.append(done),
        **FEW,
    )

    assert calls == [2, 4]


def test_out_of_memory_halves_the_batch_and_retries_it(tiny_network, monkeypatch):
    attempts = []

    def small_memory(network, items, settings, options, on_step=None):
        attempts.append(len(items))
        if len(items) > 2:
            raise torch.OutOfMemoryError("out of memory")
        return render_batch(network, items, settings, options, on_step)

    render_batch = render.render_batch
    monkeypatch.setattr(render, "render_batch", small_memory)

    results = render_units(tiny_network, "second", [0, 1, 2, 3, 4], batch_size=4, **FEW)

    # Five units at four per batch: two batches of equal size (3 and 2); the first runs out
    # of memory, and the five left go in batches of at most 2.
    assert attempts == [3, 2, 2, 1]
    assert [r.unit for r in results] == [0, 1, 2, 3, 4]


def test_out_of_memory_on_a_single_unit_is_raised(tiny_network, monkeypatch):
    def no_memory(network, items, settings, options, on_step=None):
        raise torch.OutOfMemoryError("out of memory")

    monkeypatch.setattr(render, "render_batch", no_memory)

    with pytest.raises(torch.OutOfMemoryError):
        render_units(tiny_network, "second", [0], **FEW)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"units": [6]}, "units must lie in 0…5"),
        ({"units": [1, 1]}, "without repeats"),
        ({"objective": "style"}, "objective must be one of"),
        ({"steps": 0}, "steps and size must be at least 1"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"objective": "diversity", "diversity": 1}, "at least 2 images per unit"),
        ({"objective": "direction"}, "one of channel, neuron, negative, diversity;"),
    ],
)
def test_requests_the_renderer_cannot_honour_are_rejected(tiny_network, arguments, message):
    request = {"units": [0], **arguments}

    with pytest.raises(ValueError, match=message):
        render_units(tiny_network, "second", **request)


def test_rendering_on_cpu_keeps_freed_memory(tiny_network, monkeypatch):
    calls = []
    monkeypatch.setattr(render, "keep_freed_memory", lambda: calls.append(True))

    render.render_units(tiny_network, "first", [0], steps=1, size=16)

    assert calls == [True]


def test_a_first_layer_renders_without_transforms_by_default(tiny_network):
    assert render.default_transforms(tiny_network, "first") is False
    assert render.default_transforms(tiny_network, "second") is True
    default = render_units(tiny_network, "first", [0, 1], **FEW)
    without = render_units(tiny_network, "first", [0, 1], transforms=False, **FEW)
    with_them = render_units(tiny_network, "first", [0, 1], transforms=True, **FEW)

    assert np.array_equal(pixels(default), pixels(without))
    assert not np.array_equal(pixels(default), pixels(with_them))


def test_a_later_layer_renders_with_transforms_by_default(tiny_network):
    default = render_units(tiny_network, "second", [0], **FEW)
    with_them = render_units(tiny_network, "second", [0], transforms=True, **FEW)

    assert np.array_equal(pixels(default), pixels(with_them))
