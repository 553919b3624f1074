"""The network up to the target layer, compiled by torch.compile, for render steps on CUDA.

On the GPU a render step of an early layer spends most of its time not in convolutions but
in the small operations between them: max-pools writing int64 indices, ReLUs, local response
norms, branch concatenations, casts, each a kernel that reads and writes whole maps, forward
and backward. Inductor fuses those into a few generated kernels. It needs a forward without
hooks (a hook breaks its graph), so it compiles the network cut after the target layer
(engine/truncated.py), once per (render copy, layer) and then once per batch shape.

Only the steps that do not redirect ReLU gradients use it (the graphed ones on CUDA: see
batch.py); the first steps run the eager network with its hooks. A network that cannot be
traced, or a compile that fails, falls back to the eager network, with a warning.

Off by default. Measured on an H100 (bench/GPU.md): InceptionV1's first five layers, all 1,056
units at 512 steps, take 19.9 s compiled against 25.8 s eager once compiled, but the process's
first render of each layer and batch shape spends 10-40 s compiling (106 s against 27 s for
the first sweep). That pays in a long-lived GPU worker, not for a one-off job.
"""

import logging
import weakref
from collections.abc import Callable

import torch

from workers.engine.networks import LoadedNetwork
from workers.engine.truncated import TruncationError, truncated_module

logger = logging.getLogger(__name__)

# Devices whose renders compile the network (none unless asked: ATLAS_COMPILE_RENDERS for a
# worker, --compile for bench/render.py), and the compiler (tests use "aot_eager" on CPU).
COMPILE_DEVICES: set[str] = set()
BACKEND = "inductor"

Forward = Callable[[torch.Tensor], torch.Tensor]

_FORWARDS: "weakref.WeakKeyDictionary[LoadedNetwork, dict[str, Forward | None]]" = (
    weakref.WeakKeyDictionary()
)


def compiled_forward(network: LoadedNetwork, layer: str) -> Forward | None:
    """Preprocessed images → the layer's maps, compiled; None where renders run eagerly.

    `network` is a render copy (frozen). Cached beside it, so that repeated renders of a layer
    reuse the compiled code.
    """
    if network.device.type not in COMPILE_DEVICES or network.module_paths is None:
        return None
    forwards = _FORWARDS.setdefault(network, {})
    if layer not in forwards:
        try:
            cut = truncated_module(network.module, network.module_paths[layer])
        except TruncationError as error:
            logger.warning("rendering %s eagerly: %s", layer, error)
            forwards[layer] = None
        else:
            forwards[layer] = torch.compile(cut, backend=BACKEND, dynamic=False)
    return forwards[layer]


def give_up(network: LoadedNetwork, layer: str, error: Exception) -> None:
    """Render this layer eagerly from now on: its compile failed with `error`."""
    logger.warning("rendering %s eagerly: torch.compile failed: %s", layer, error)
    _FORWARDS.setdefault(network, {})[layer] = None
