"""Where a render reads a layer: its pre-activation, floored at its own median, when the
layer ends in a capping activation.

A unit behind a ReLU, ReLU6 or hard-tanh passes no gradient where its input is out of range.
From a near-grey start image half of MobileNetV2's first-layer units are below zero
everywhere (six of them can never be above it, whatever the image), and the redirected
gradient of the first steps (relu.py) lifts few of them for good. Lucid renders such layers
before the activation (InceptionV1 at `conv2d0_pre_relu`), and so do we, with one change.
The channel objective is a spatial mean, and on a first layer the pre-activation is linear
in the image: its mean rewards only the image's mean colour, so it renders a flat field
(for a unit firing everywhere on grey the ReLU is linear there too: MobileNetV2's unit 18, a
vertical-edge detector, rendered as a dark field). What makes the channel objective seek a
pattern is the rectifier's kink; here the kink sits at each map's own median instead of at
zero, so it is always inside the map's range: the layer's map in a render is
`max(pre-activation, its spatial median)`, the median taken without gradient. Half of the
positions always carry the gradient, the objective always moves, and the spatial max is the
pre-activation's own, which is what dataset examples rank by. The channel objective then
floors each map again, at its top decile (objectives.py), which lies above the median: the
gradient reaches the tenth of the positions where the unit responds most, so a render seeks
the unit's pattern rather than the mean colour of half the image.

Where the engine knows no capping activation at the end of a layer (TorchScript networks,
layers that end otherwise), renders read the layer as it is, and the redirected gradient is
all there is.
"""

import copy
import weakref
from itertools import chain

import torch
from torch import nn

from workers.engine.featurevis.speedups.fused import unfuse
from workers.engine.networks import LoadedNetwork

PRE_ACTIVATION = "pre_activation"
ACTIVATION = "activation"

_VIEWS: "weakref.WeakKeyDictionary[LoadedNetwork, dict[tuple[str, bool], LoadedNetwork]]" = (
    weakref.WeakKeyDictionary()
)


class PreActivation(nn.Identity):
    """Where a layer's capping activation stood: passes the pre-activation on.

    A type of its own, so that nothing that fuses or folds around identities (fused.py)
    takes it for a folded batch norm.
    """


class MedianFloor(PreActivation):
    """Where a layer's capping activation stood in a render: the pre-activation floored at
    the spatial median of its map (per image and channel, without gradient)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        median = x.detach().flatten(2).median(dim=-1).values
        return torch.maximum(x, median[..., None, None])


def objective_site(network: LoadedNetwork, layer: str) -> str:
    """What a render of the layer optimises: "pre_activation" or "activation"."""
    return PRE_ACTIVATION if layer in network.capping_activations else ACTIVATION


def _sharing_copy(module: nn.Module) -> nn.Module:
    """A copy of the module tree that shares every parameter and buffer with the original."""
    shared = {id(tensor): tensor for tensor in chain(module.parameters(), module.buffers())}
    return copy.deepcopy(module, memo=shared)


def at_pre_activation(network: LoadedNetwork, layer: str, *, floored: bool = True) -> LoadedNetwork:
    """The network whose map of `layer` is the layer's pre-activation, serving that layer only.

    floored: the pre-activation floored at its spatial median (`MedianFloor`), as renders
    optimise it; else the pre-activation itself (what a render's quality is measured on).
    The network itself where the layer does not end in a capping activation. Otherwise a
    copy of its modules sharing its weights, the activation replaced (and, in a render copy,
    the convolution it was fused with computed alone again). Cached per (network, layer,
    floored), so that a compiled forward of the layer is reused.
    """
    path = network.capping_activations.get(layer)
    if path is None:
        return network
    views = _VIEWS.setdefault(network, {})
    if (layer, floored) not in views:
        module = _sharing_copy(network.module)
        owner, _, name = path.rpartition(".")
        parent = module.get_submodule(owner)
        unfuse(parent, name)
        setattr(parent, name, MedianFloor() if floored else PreActivation())
        views[layer, floored] = network.narrowed(layer, module)
    return views[layer, floored]
