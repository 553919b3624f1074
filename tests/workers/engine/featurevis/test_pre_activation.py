"""Renders of layers that end in a capping activation read its pre-activation, floored at
each map's median, so that no unit stalls."""

from functools import partial

import numpy as np
import torch
from torch import nn

from workers.engine.capture import capture_by_hooks
from workers.engine.featurevis.options import RenderOptions
from workers.engine.featurevis.pre_activation import (
    MedianFloor,
    PreActivation,
    at_pre_activation,
    objective_site,
)
from workers.engine.featurevis.render import render_units, rendered_network
from workers.engine.networks import LayerInfo, LoadedNetwork

CPU = torch.device("cpu")
# Central-crop colour standard deviation (per channel over the positions of the middle half
# of the image, averaged over R, G, B) below which a render counts as a flat field. Measured
# at 64 px and 128 steps on MobileNetV2 features.0 (seed 0): the start image gives 0.003; the
# renders that read the ReLU6 output, before this change, gave 0.008-0.037 for the 24 flat
# colour fields and grey-noise fields among the 32 units and 0.05-0.17 for the others; the
# renders at the floored pre-activation give 0.27 and more. A border is left out because
# the transforms' grey padding draws a frame around every render, flat or not.
FLAT_FIELD_STD = 0.05


def centre_std(rgb: np.ndarray) -> float:
    """Colour standard deviation over the middle half of a [H, W, 3] uint8 image."""
    margin = rgb.shape[0] // 4
    centre = rgb[margin:-margin, margin:-margin].astype(np.float64) / 255
    return float(centre.reshape(-1, 3).std(axis=0).mean())


def silent_layer() -> LoadedNetwork:
    """A conv + ReLU6 layer whose 4 units are below zero on every image in [0, 1].

    Each kernel is a small edge (its taps sum to zero) and each bias -1: the pre-activation
    lies within ±0.3 of -1 whatever the image, so the ReLU6 output is 0 and passes no gradient.
    """
    conv = nn.Conv2d(3, 4, 3, padding=1)
    with torch.no_grad():
        edge = torch.tensor([[-1.0, 0.0, 1.0]] * 3) / 30
        conv.weight.copy_(
            torch.stack([edge, edge.T, -edge, -edge.T]).unsqueeze(1).expand(4, 3, 3, 3)
        )
        conv.bias.fill_(-1.0)
    paths = {"edges": "0"}
    return LoadedNetwork(
        nn.Sequential(nn.Sequential(conv, nn.ReLU6())),
        preprocess=nn.Identity(),
        capture=partial(capture_by_hooks, module_paths=paths),
        layers=[LayerInfo("edges", "conv", 0, 4, 32, 32, 3, 1)],
        input_filters={},
        input_size=32,
        module_paths=paths,
    )


def test_a_layer_ending_in_a_capping_activation_knows_where_it_is():
    network = silent_layer()

    assert network.capping_activations == {"edges": "0.1"}
    assert objective_site(network, "edges") == "pre_activation"


def test_layers_without_module_paths_are_read_as_they_are(tiny_network):
    assert tiny_network.capping_activations == {}
    assert at_pre_activation(tiny_network, "first") is tiny_network
    assert objective_site(tiny_network, "first") == "activation"


def test_mobilenet_layers_ending_in_relu6_are_read_before_it(pretrained_mobilenet):
    activations = pretrained_mobilenet.capping_activations

    assert activations["features.0"] == "features.0.2"
    assert activations["features.2.expand"] == "features.2.conv.2"
    assert activations["features.2.depthwise"] == "features.2.conv.5"
    # Block outputs end in a linear projection (and a residual sum): nothing caps them.
    assert "features.2" not in activations


def test_the_pre_activation_view_reads_the_convolution_before_the_relu6(pretrained_mobilenet):
    images = torch.rand(2, 3, 64, 64)
    module = pretrained_mobilenet.module
    with torch.no_grad():
        expected = module.features[0][1](
            module.features[0][0](pretrained_mobilenet.preprocess(images))
        )
        view = at_pre_activation(pretrained_mobilenet, "features.0", floored=False)
        maps = view.activations(images, ["features.0"])["features.0"]

    assert torch.allclose(maps, expected, atol=1e-5)
    assert maps.min() < 0
    assert type(view.module.features[0][2]) is PreActivation
    # The network itself still ends the layer in its ReLU6, and shares its weights.
    assert type(module.features[0][2]) is nn.ReLU6
    assert view.module.features[0][0].weight is module.features[0][0].weight


def test_the_render_copy_reads_the_pre_activation_of_a_fused_convolution(pretrained_mobilenet):
    rendered = rendered_network(pretrained_mobilenet, "features.3.expand", CPU, RenderOptions())
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        maps = rendered.activations(images, ["features.3.expand"])["features.3.expand"]
        pre = at_pre_activation(pretrained_mobilenet, "features.3.expand", floored=False)
        expected = pre.activations(images, ["features.3.expand"])["features.3.expand"]
    median = expected.flatten(2).median(dim=-1).values[..., None, None]

    assert type(rendered.module.features[3].conv[2]) is MedianFloor
    assert torch.allclose(maps, torch.maximum(expected, median), atol=1e-4)


def test_the_pre_activation_view_serves_only_its_layer(pretrained_mobilenet):
    view = at_pre_activation(pretrained_mobilenet, "features.0")

    assert [layer.name for layer in view.layers] == ["features.0"]
    assert view.capping_activations == {}


def test_a_unit_silent_everywhere_gets_a_gradient_in_a_render():
    network = silent_layer()
    rendered = rendered_network(network, "edges", CPU, RenderOptions())
    images = torch.rand(4, 3, 32, 32, requires_grad=True)
    with torch.no_grad():
        assert network.activations(images, ["edges"])["edges"].max() == 0.0

    maps = rendered.activations(images, ["edges"])["edges"]
    maps[torch.arange(4), torch.arange(4)].mean(dim=(1, 2)).sum().backward()

    assert images.grad.flatten(1).abs().amax(dim=1).min() > 0


def test_the_objective_of_a_unit_silent_everywhere_rises():
    renders = render_units(silent_layer(), "edges", [0, 1, 2, 3], steps=64, size=32)

    for render in renders:
        assert render.objective_at == "pre_activation"
        assert render.curve[-1][1] > render.curve[0][1] + 0.01


def test_no_first_layer_render_of_mobilenet_is_a_flat_field(pretrained_mobilenet):
    """Every unit of MobileNetV2's features.0 (conv, batch norm, ReLU6) renders a pattern.

    At the ReLU6 output 24 of the 32 units rendered flat colour or grey-noise fields (13 of
    them never left an objective of 0.0); see FLAT_FIELD_STD for the floor.
    """
    renders = render_units(pretrained_mobilenet, "features.0", range(32), steps=96, size=64)

    stds = {render.unit: centre_std(render.rgb) for render in renders}
    flat = {unit: round(std, 4) for unit, std in stds.items() if std < FLAT_FIELD_STD}
    assert flat == {}
    stalled = [render.unit for render in renders if render.curve[-1][1] <= render.curve[0][1]]
    assert stalled == []
