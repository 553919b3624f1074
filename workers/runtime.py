"""What a worker process keeps between jobs: its device and the networks it loaded.

Only the worker's child processes call this module; the parent never touches CUDA.
"""

import logging
import os
import socket
import tempfile
from collections import OrderedDict
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage

from workers.services.networks import BUNDLED_PREFIX

logger = logging.getLogger(__name__)

_networks = OrderedDict()
_device = None


def worker_id():
    return f"{socket.gethostname()}:{os.getpid()}"


def device():
    """The torch device this process renders on, chosen once from ``ATLAS_DEVICE``."""
    global _device
    if _device is None:
        import torch

        from workers.engine.featurevis import compiled
        from workers.engine.networks import resolve_device

        if settings.ATLAS_TORCH_THREADS:
            torch.set_num_threads(settings.ATLAS_TORCH_THREADS)
        if settings.ATLAS_COMPILE_RENDERS:
            compiled.COMPILE_DEVICES.add("cuda")
        _device = resolve_device(settings.ATLAS_DEVICE)
    return _device


def device_name():
    return str(device())


def _weights_path(stored_name, folder):
    try:
        return Path(default_storage.path(stored_name))
    except NotImplementedError:
        # Object storage has no local path: fetch a copy for torch to read.
        local = Path(folder) / Path(stored_name).name
        with default_storage.open(stored_name, "rb") as remote, local.open("wb") as out:
            for chunk in iter(lambda: remote.read(1 << 20), b""):
                out.write(chunk)
        return local


def _load(network):
    from workers.engine import networks as engine_networks

    if network.source == network.Source.TORCHSCRIPT:
        with tempfile.TemporaryDirectory(prefix="atlas-net-") as folder:
            path = _weights_path(network.weights, folder)
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
        path = _weights_path(network.weights, folder)
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
