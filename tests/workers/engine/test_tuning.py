"""Tuning curves on hand-built units whose preferred stimulus is known from their kernel."""

import math
from functools import partial

import pytest
import torch
from torch import nn

from workers.engine.capture import capture_by_hooks
from workers.engine.networks import LayerInfo, LoadedNetwork
from workers.engine.stimuli import Placement, families, hsv_to_rgb, selected
from workers.engine.tuning import (
    Site,
    circular_variance,
    layer_tuning,
    measurement_site,
    peak_selectivity,
    unit_family_tuning,
)

KERNEL = 15
CANVAS = 33


def kernel_coordinates():
    """Offsets (u rightward, v upward) of a kernel's taps from its centre."""
    steps = torch.arange(KERNEL, dtype=torch.float32) - KERNEL // 2
    return steps.view(1, -1).expand(KERNEL, KERNEL), -steps.view(-1, 1).expand(KERNEL, KERNEL)


def across(degrees):
    """Signed distance of each tap from the line through the centre at ``degrees`` (positive
    on its left), the stimuli's convention."""
    u, v = kernel_coordinates()
    angle = math.radians(degrees)
    return v * math.cos(angle) - u * math.sin(angle)


def hand_built(kernels):
    """A one-convolution network whose units have the given [C, 3, k, k] kernels, on inputs
    centred at grey (so a grey canvas gives 0)."""
    conv = nn.Conv2d(3, kernels.shape[0], KERNEL, padding=KERNEL // 2, bias=False)
    conv.weight.data.copy_(kernels)
    layer = LayerInfo("conv", "conv", 0, kernels.shape[0], CANVAS, CANVAS, KERNEL, 1)
    return LoadedNetwork(
        nn.Sequential(conv),
        preprocess=lambda images: images - 0.5,
        capture=partial(capture_by_hooks, module_paths={"conv": "0"}),
        layers=[layer],
        input_filters={},
        input_size=CANVAS,
    )


def tuned(kernels, family, **grid):
    network = hand_built(kernels)
    site = measurement_site(network.layer("conv"), CANVAS)
    chosen = selected([family], site.placement, **grid)
    found = layer_tuning(network, "conv", chosen, site, batch_size=50)
    fam = found.families[0]
    return [
        unit_family_tuning(fam, found.responses[family][unit], float(found.baseline[unit]))
        for unit in range(kernels.shape[0])
    ]


def grey_kernel(pattern):
    """The same ``pattern`` [k, k] on all three channels, as a [1, 3, k, k] kernel."""
    return pattern.expand(3, KERNEL, KERNEL).unsqueeze(0)


def angular_gap(a, b, period):
    gap = abs(a - b) % period
    return min(gap, period - gap)


FEATURES_3 = LayerInfo("features.3", "block", 8, 24, 56, 56, 19, 4)


def test_the_site_is_a_canvas_just_larger_than_the_receptive_field():
    site = measurement_site(FEATURES_3, 224)

    assert site == Site((4, 4), Placement(size=36, centre_y=16.0, centre_x=16.0, diameter=19.0))


def test_without_cropping_the_site_is_the_centre_of_the_image():
    site = measurement_site(FEATURES_3, 224, crop=False)

    assert site == Site((28, 28), Placement(224, centre_y=112.0, centre_x=112.0, diameter=19.0))


def test_a_field_wider_than_the_image_is_measured_on_the_whole_image():
    layer = LayerInfo("features.18", "conv", 52, 1280, 7, 7, 491, 32)

    site = measurement_site(layer, 224, scale=2.0)

    assert site == Site((3, 3), Placement(224, centre_y=96.0, centre_x=96.0, diameter=224.0))


def test_a_cropped_canvas_measures_what_the_whole_image_measures(small_mobilenet):
    network = small_mobilenet.to("cpu")
    layer = network.layer("features.3")
    cropped = measurement_site(layer, 64)
    whole = measurement_site(layer, 64, crop=False)
    chosen = selected(["edge", "dot"], whole.placement)

    small = layer_tuning(network, "features.3", chosen, cropped)
    full = layer_tuning(network, "features.3", chosen, whole)

    assert cropped.placement.size < whole.placement.size
    for name in ("edge", "dot"):
        torch.testing.assert_close(small.responses[name], full.responses[name])
    torch.testing.assert_close(small.baseline, full.baseline)


@pytest.mark.parametrize("angle", [37.0, 200.0, 301.0])
def test_an_edge_kernel_peaks_within_one_step_of_its_direction(angle):
    kernel = grey_kernel(across(angle).clamp(-2, 2))

    (edge,) = tuned(kernel, "edge")

    assert angular_gap(edge.preferred["direction"], angle, 360.0) <= 15.0
    assert edge.index == "circular_variance"
    assert 0 < edge.selectivity < 0.5


def test_a_finer_angle_step_finds_the_edge_within_the_finer_step():
    kernel = grey_kernel(across(37.0).clamp(-2, 2))

    (edge,) = tuned(kernel, "edge", angle_step=5.0)

    assert angular_gap(edge.preferred["direction"], 37.0, 360.0) <= 5.0


def test_a_bar_kernel_prefers_gratings_and_lines_of_its_orientation():
    distance = across(120.0).abs()
    bar = (distance <= 1.5).float() - 0.5 * ((distance > 1.5) & (distance <= 4.5)).float()
    kernel = grey_kernel(bar)

    (grating,) = tuned(kernel, "grating")
    (line,) = tuned(kernel, "line")

    assert angular_gap(grating.preferred["orientation"], 120.0, 180.0) <= 15.0
    assert angular_gap(line.preferred["orientation"], 120.0, 180.0) <= 15.0
    assert line.preferred["polarity"] == 1.0


def test_a_colour_opponent_kernel_prefers_its_colour_pair():
    red, green = hsv_to_rgb(torch.tensor([0.0, 120.0]), torch.ones(2), torch.ones(2))
    left = (across(90.0) > 0).float()
    right = (across(90.0) < 0).float()
    kernel = ((red - 0.5).view(3, 1, 1) * left + (green - 0.5).view(3, 1, 1) * right)[None]

    (contrast,) = tuned(kernel, "colour_contrast")

    assert contrast.preferred == {"hue_left": 0.0, "hue_right": 120.0, "orientation": 90.0}
    assert contrast.index == "peak_selectivity"
    assert contrast.curve_values[int(torch.tensor(contrast.curve).argmax())] == 0.0


def test_a_colour_kernel_prefers_its_hue_and_is_tuned_around_it():
    blue = hsv_to_rgb(torch.tensor([240.0]), torch.ones(1), torch.ones(1))[0]
    kernel = (blue - 0.5).view(1, 3, 1, 1).expand(1, 3, KERNEL, KERNEL).clone()

    (colour,) = tuned(kernel, "colour")

    assert colour.preferred == {"hue": 240.0, "value": 1.0}
    assert colour.selectivity < 0.5


@pytest.mark.parametrize("radius", [2.0, 3.0, 5.0])
def test_a_centre_surround_kernel_prefers_dots_of_its_centre_size(radius):
    u, v = kernel_coordinates()
    distance = torch.sqrt(u * u + v * v)
    centre = (distance <= radius).float()
    surround = ((distance > radius) & (distance <= 2 * radius)).float()
    kernel = grey_kernel(centre / centre.sum() - surround / surround.sum())
    step = KERNEL / 16

    (dot,) = tuned(kernel, "dot")

    assert abs(dot.preferred["radius"] * KERNEL - radius) <= step
    assert dot.preferred["polarity"] == 1.0
    assert dot.selectivity > 0.5


def test_a_curve_kernel_prefers_its_curvature_to_a_straight_line():
    place = Placement(size=CANVAS, centre_y=16.0, centre_x=16.0, diameter=KERNEL)
    curve_family = families(place)["curve"]
    # The kernel is the stimulus itself: orientation 45°, curvature 1.5 / D, light.
    point = list(curve_family.axes["orientation"]).index(45.0) * 10 + 3 * 2
    drawn = curve_family.images(place, point, point + 1)[0, :, 9:24, 9:24]
    kernel = (drawn - 0.5)[None]

    (curve,) = tuned(kernel, "curve")

    assert curve.preferred == {"orientation": 45.0, "curvature": 1.5, "polarity": 1.0}


def test_every_stimulus_is_measured_once_in_batches_with_progress():
    network = hand_built(grey_kernel(across(0.0)).repeat(2, 1, 1, 1))
    site = measurement_site(network.layer("conv"), CANVAS)
    chosen = selected(["edge", "dot"], site.placement)
    seen = []

    found = layer_tuning(
        network, "conv", chosen, site, units=[1], batch_size=7, progress=seen.append
    )

    assert found.stimuli == 24 + 16
    assert seen == [7, 14, 21, 24, 31, 38, 40]
    assert found.responses["edge"].shape == (1, 24)
    assert found.responses["dot"].shape == (1, 8, 2)
    assert found.baseline.tolist() == [0.0]


def test_circular_variance_is_zero_for_one_angle_and_one_for_a_flat_curve():
    angles = [0.0, 90.0, 180.0, 270.0]

    assert circular_variance(torch.tensor([0.0, 3.0, 0.0, 0.0]), angles, 360.0) == 0.0
    assert circular_variance(torch.ones(4), angles, 360.0) == pytest.approx(1.0)
    assert circular_variance(torch.zeros(4), angles, 360.0) is None


def test_peak_selectivity_is_zero_when_flat_and_none_without_a_response():
    assert peak_selectivity(torch.full((5,), 2.0)) == 0.0
    assert peak_selectivity(torch.tensor([0.0, 0.0, 4.0, 0.0])) == 0.75
    assert peak_selectivity(torch.zeros(3)) is None


def test_a_unit_that_prefers_a_straight_stroke_is_tuned_to_its_orientation_modulo_180():
    place = Placement(size=CANVAS, centre_y=16.0, centre_x=16.0, diameter=KERNEL)
    curve_family = families(place)["curve"]
    responses = torch.zeros(curve_family.shape)
    orientations = list(curve_family.axes["orientation"])
    for angle in (30.0, 210.0):
        responses[orientations.index(angle), 0, 0] = 1.0

    curve = unit_family_tuning(curve_family, responses, 0.0)

    assert curve.preferred == {"orientation": 30.0, "curvature": 0.0, "polarity": 1.0}
    assert curve.selectivity == pytest.approx(0.0, abs=1e-9)


def capped(kernels, *, known=True):
    """``hand_built`` with a bias below anything the kernels can reach and a ReLU6 after the
    convolution: every unit's output is 0 on every image. known: the layer's module paths
    are given, so the engine knows the ReLU6 caps it."""
    conv = nn.Conv2d(3, kernels.shape[0], KERNEL, padding=KERNEL // 2)
    conv.weight.data.copy_(kernels)
    # Inputs lie in [-0.5, 0.5]: no response reaches half the kernel's absolute sum.
    conv.bias.data.copy_(-(kernels.abs().sum(dim=(1, 2, 3)) * 0.5 + 1))
    layer = LayerInfo("conv", "conv", 0, kernels.shape[0], CANVAS, CANVAS, KERNEL, 1)
    paths = {"conv": "0"}
    return LoadedNetwork(
        nn.Sequential(nn.Sequential(conv, nn.ReLU6())),
        preprocess=lambda images: images - 0.5,
        capture=partial(capture_by_hooks, module_paths=paths),
        layers=[layer],
        input_filters={},
        input_size=CANVAS,
        module_paths=paths if known else None,
    )


def edge_tuning(network):
    site = measurement_site(network.layer("conv"), CANVAS)
    found = layer_tuning(network, "conv", selected(["edge"], site.placement), site)
    family = found.families[0]
    return found, unit_family_tuning(family, found.responses["edge"][0], float(found.baseline[0]))


def test_a_capped_layer_is_tuned_at_its_pre_activation():
    kernel = grey_kernel(across(60.0).clamp(-2, 2))

    found, edge = edge_tuning(capped(kernel))
    _, uncapped = edge_tuning(hand_built(kernel))

    assert found.activation == "pre-activation"
    # Negative everywhere, yet the curve ranks the directions as the plain convolution does:
    # the bias shifts the responses and the baseline alike.
    assert float(found.responses["edge"].max()) < 0
    assert max(edge.curve) - min(edge.curve) > 1.0
    assert edge.preferred == uncapped.preferred
    assert edge.selectivity == pytest.approx(uncapped.selectivity, abs=1e-4)


def test_a_layer_whose_cap_the_engine_cannot_see_is_read_at_its_output():
    kernel = grey_kernel(across(60.0).clamp(-2, 2))

    found, edge = edge_tuning(capped(kernel, known=False))
    plain, _ = edge_tuning(hand_built(kernel))

    assert (found.activation, plain.activation) == ("layer output", "layer output")
    assert set(edge.curve) == {0.0}
    assert edge.selectivity is None
