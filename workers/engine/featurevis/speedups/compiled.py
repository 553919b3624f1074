"""A render step's forward, from raw images to the target's maps, compiled for CUDA.

On the GPU a render step of an early layer spends most of its time not in convolutions but
in the small operations between them: the colour transform and sigmoid, the transforms'
sampling grid, max-pools writing int64 indices, ReLUs, local response norms, branch
concatenations, casts, each a kernel that reads and writes whole maps, forward and backward.
Inductor fuses those into a few generated kernels. It needs a forward without hooks (a hook
breaks its graph), so the network is cut after the target layer (engine/truncated.py), and
`Front` puts the colour transform, the random transforms and the preprocessing before it;
that is compiled once per (render copy, layer, colour, transform size) and then once per
batch shape. Only the FFT stays outside (inductor has no FFT of its own).

Only the steps that do not redirect ReLU gradients use it (the graphed ones on CUDA: see
batch.py); the first steps run the eager network with its hooks. A network that cannot be
traced, or a compile that fails, falls back to the eager network, with a warning.

Off unless a render's `RenderOptions` asks for it (`compile=True`: ATLAS_COMPILE_RENDERS for a
GPU worker, --compile for bench/render.py): a step is faster once compiled, but the process's
first render of each layer and batch shape pays the compile, which pays in a long-lived GPU
worker, not for a one-off job. The numbers are in bench/GPU.md.
"""

import logging
import weakref
from collections.abc import Callable

import torch
from torch import nn

from workers.engine.featurevis.param import finish_images
from workers.engine.featurevis.transforms import apply_transforms
from workers.engine.networks import LoadedNetwork
from workers.engine.truncated import TruncationError, truncated_module

logger = logging.getLogger(__name__)

# The compiler (tests use "aot_eager" on CPU).
BACKEND = "inductor"

# Dynamo keeps at most `recompile_limit` compiled versions of one function (8 by default) and
# then runs it eagerly, with one warning. Every layer, colour option, transform size and batch
# shape is a version of `Front.forward`, so a worker rendering a network's layers one after
# another would pass 8 soon and lose the compiled steps; render compiles run with this room.
COMPILED_VERSIONS = 1024

Forward = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]
# (layer, colour transform or not, side of the transformed images or None)
FrontKey = tuple[str, bool, int | None]

_FORWARDS: "weakref.WeakKeyDictionary[LoadedNetwork, dict[FrontKey, Forward | None]]" = (
    weakref.WeakKeyDictionary()
)


def float_maps(images: torch.Tensor, maps_of: Callable[[torch.Tensor], torch.Tensor]):
    """maps_of(images) as float32, channels-last and bf16-autocast on CUDA."""
    channels_last = images.contiguous(memory_format=torch.channels_last)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=images.device.type == "cuda"):
        maps = maps_of(channels_last)
    return maps.float()


def step_images(
    raw: torch.Tensor,
    colour: torch.Tensor | None,
    matrices: torch.Tensor | None,
    out_size: int | None,
) -> torch.Tensor:
    """What the network sees in a render step: raw images coloured and squashed to [0, 1],
    then randomly transformed (unless out_size is None)."""
    images = finish_images(raw, colour)
    return images if out_size is None else apply_transforms(images, matrices, out_size)


class Front(nn.Module):
    """Raw images and transform matrices → the target layer's float32 maps.

    The part of a render step between the image parameterization and the objective: colour
    transform and sigmoid, random transforms, preprocessing, the network cut at the target.
    """

    def __init__(
        self,
        cut: nn.Module,
        preprocess: Callable[[torch.Tensor], torch.Tensor],
        colour: torch.Tensor | None,
        out_size: int | None,
    ):
        super().__init__()
        self.cut = cut
        self.preprocess = preprocess
        self.register_buffer("colour", colour)
        self.out_size = out_size

    def forward(self, raw: torch.Tensor, matrices: torch.Tensor | None) -> torch.Tensor:
        images = step_images(raw, self.colour, matrices, self.out_size)
        return float_maps(images, lambda pixels: self.cut(self.preprocess(pixels)))


def front_key(layer: str, colour: torch.Tensor | None, out_size: int | None) -> FrontKey:
    """What a compiled `Front` is cached under, beside its render copy."""
    return (layer, colour is not None, out_size)


def compiled_front(
    network: LoadedNetwork, layer: str, *, colour: torch.Tensor | None, out_size: int | None
) -> Forward | None:
    """A compiled `Front` for the layer; None where it cannot be (no module paths to cut at).

    `network` is a render copy (frozen); colour: the colour matrix, or None for none;
    out_size: the transformed images' side, or None without transforms. Cached beside the
    network, so that repeated renders of a layer reuse the compiled code.
    """
    if network.module_paths is None:
        return None
    forwards = _FORWARDS.setdefault(network, {})
    key = front_key(layer, colour, out_size)
    if key not in forwards:
        try:
            cut = truncated_module(network.module, network.module_paths[layer])
        except TruncationError as error:
            logger.warning("rendering %s eagerly: %s", layer, error)
            forwards[key] = None
        else:
            front = Front(cut, network.preprocess, colour, out_size)
            forwards[key] = _with_room(torch.compile(front, backend=BACKEND, dynamic=False))
    return forwards[key]


def _with_room(compiled: Forward) -> Forward:
    """The compiled front, called with room for COMPILED_VERSIONS versions of it."""

    def forward(raw: torch.Tensor, matrices: torch.Tensor | None) -> torch.Tensor:
        with torch._dynamo.config.patch(
            recompile_limit=COMPILED_VERSIONS, accumulated_recompile_limit=COMPILED_VERSIONS
        ):
            return compiled(raw, matrices)

    return forward


def give_up(network: LoadedNetwork, key: FrontKey, error: Exception) -> None:
    """Render this layer eagerly from now on: its compile failed with `error`."""
    logger.warning("rendering %s eagerly: torch.compile failed: %s", key[0], error)
    _FORWARDS.setdefault(network, {})[key] = None
