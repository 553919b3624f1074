"""What a worker process keeps between jobs: its device, its render options and the networks
it loaded.

Jobs call this module in the worker's pool (child) processes, where they run; the parent
process never does, so it never touches CUDA (workers/worker_process.py).
"""

import logging
import os
import socket
import tempfile
from collections import OrderedDict

from django.conf import settings

from workers.services.networks import BUNDLED_PREFIX
from workers.storage import stored_file_path

logger = logging.getLogger(__name__)

_networks = OrderedDict()
_device = None


def worker_id():
    return f"{socket.gethostname()}:{os.getpid()}"


def device():
    """The torch device this process renders on, chosen once from ``ATLAS_DEVICE``; the first
    call also limits torch's CPU threads to ``ATLAS_TORCH_THREADS`` where that is set."""
    global _device
    if _device is None:
        import torch

        from workers.engine.networks import resolve_device

        if settings.ATLAS_TORCH_THREADS:
            torch.set_num_threads(settings.ATLAS_TORCH_THREADS)
        _device = resolve_device(settings.ATLAS_DEVICE)
    return _device


def render_options():
    """The engine's render options on this process's device: its defaults there, compiled on
    CUDA when ``ATLAS_COMPILE_RENDERS`` says so."""
    from workers.engine.featurevis.options import RenderOptions

    on = device()
    return RenderOptions.for_device(
        on, compile=settings.ATLAS_COMPILE_RENDERS and on.type == "cuda"
    )


def device_name():
    return str(device())


def _load(network):
    from workers.engine import networks as engine_networks

    if network.source == network.Source.TORCHSCRIPT:
        with tempfile.TemporaryDirectory(prefix="atlas-net-") as folder:
            path = stored_file_path(network.weights, folder)
            return engine_networks.load_torchscript(path, input_size=network.input_size)
    if not network.weights:
        return engine_networks.load_builtin(
            network.arch, random_seed=network.random_seed, input_size=network.input_size
        )
    if network.weights.startswith(BUNDLED_PREFIX):
        path = engine_networks.bundled_weights_path(network.arch)
        return engine_networks.load_builtin(
            network.arch, weights_path=path, input_size=network.input_size
        )
    with tempfile.TemporaryDirectory(prefix="atlas-net-") as folder:
        path = stored_file_path(network.weights, folder)
        return engine_networks.load_builtin(
            network.arch, weights_path=path, input_size=network.input_size
        )


def network_for(network, on=None):
    """The loaded network on ``on`` (default: this process's device), cached by id, weights
    hash and device."""
    target = device() if on is None else on
    key = (network.pk, network.weights_sha256, network.random_seed, str(target))
    if key in _networks:
        _networks.move_to_end(key)
        return _networks[key]
    loaded = _load(network).to(target)
    _networks[key] = loaded
    while len(_networks) > max(1, settings.ATLAS_NETWORK_CACHE_SIZE):
        _networks.popitem(last=False)
    logger.info("loaded network %s on %s", network.name, target)
    return loaded
