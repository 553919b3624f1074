"""Measuring a network's layers on a worker: the inspect_network job and the command line.

Built-in architectures are our own code and load here; a TorchScript file is a user's code and
runs only in a child process under a memory, CPU and wall-clock limit, so that a model whose
forward loops or allocates without end fails its job while the worker lives on.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from workers.engine import networks as engine_networks
from workers.engine.errors import EngineError
from workers.models import Network
from workers.services.jobs import JobCancelled
from workers.services.networks import BUNDLED_PREFIX, network_layers_create
from workers.storage import sha256_file, stored_file_path

logger = logging.getLogger(__name__)

MAX_LAYERS = 1000
MAX_UNITS = 500_000
MAX_CHANNELS = 100_000
MAX_LAYER_NAME = 100
# More than MAX_LAYERS layers with the longest names fit in this many bytes of JSON.
MAX_OUTPUT_BYTES = 1 << 20
# How often a waiting worker reports progress (which also checks for a cancel).
POLL_SECONDS = 1.0


class InspectionFailed(EngineError):
    """The network could not be inspected; ``code`` says why."""

    def __init__(self, message, *, code="inspection_failed"):
        super().__init__(message)
        self.code = code


def _shown(name):
    return repr(name[:40] + "…" if len(name) > 40 else name)


def _check_name(name):
    if not isinstance(name, str) or not name:
        raise InspectionFailed("forward returned a map with an empty name.", code="invalid_layer")
    if len(name) > MAX_LAYER_NAME:
        raise InspectionFailed(
            f"The layer name {_shown(name)} has {len(name)} characters; a layer name has at most "
            f"{MAX_LAYER_NAME}. Rename the key in forward's output.",
            code="invalid_layer_name",
        )
    if not name.isprintable() or "/" in name:
        raise InspectionFailed(
            f"The layer name {_shown(name)} contains a control character (such as NUL or a "
            "newline) or '/'; a layer name is printable text without '/', as it appears in "
            "URLs. Rename the key in forward's output.",
            code="invalid_layer_name",
        )


def _size(layer, key, maximum):
    value = layer.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InspectionFailed(
            f"Layer {_shown(layer['name'])} has {key} {value!r}; expected 1 to {maximum}.",
            code="invalid_layer",
        )
    return value


def layers_checked(layers):
    """TorchScript layers (dicts from the child) as LayerInfo, or InspectionFailed saying which
    rule one broke: 1-1000 layers of 1-100 printable characters, 500,000 units in all."""
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        count = len(layers) if isinstance(layers, list) else "no"
        raise InspectionFailed(
            f"forward returned {count} maps; a network has 1 to {MAX_LAYERS} layers.",
            code="invalid_layer",
        )
    checked = []
    for order, layer in enumerate(layers):
        _check_name(layer.get("name"))
        checked.append(
            engine_networks.LayerInfo(
                name=layer["name"],
                kind=engine_networks.TORCHSCRIPT_KIND,
                order=order,
                channels=_size(layer, "channels", MAX_CHANNELS),
                height=_size(layer, "height", 1 << 16),
                width=_size(layer, "width", 1 << 16),
                receptive_field=None,
                stride=None,
            )
        )
    units = sum(info.channels for info in checked)
    if units > MAX_UNITS:
        raise InspectionFailed(
            f"forward's maps have {units} channels in all; a network may have at most "
            f"{MAX_UNITS} units.",
            code="invalid_layer",
        )
    return checked


def _child_environment():
    # Nothing of the worker's environment (database URL, secrets) reaches the user's model.
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(settings.BASE_DIR),
        "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "HOME": tempfile.gettempdir(),
    }


def _stopped(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait(process, *, timeout, on_wait):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return process.wait(timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                raise InspectionFailed(
                    f"The model's forward did not finish on one image within {timeout:g} "
                    "seconds (ATLAS_INSPECT_TIMEOUT_SECONDS); it was stopped.",
                    code="inspection_timeout",
                ) from None
            on_wait()


def _read_result(output, returncode, memory_mb):
    if not output.is_file():
        reason = f"signal {-returncode}" if returncode < 0 else f"exit status {returncode}"
        raise InspectionFailed(
            f"The inspection of the model stopped ({reason}) without an answer; a model that "
            f"needs more than {memory_mb} MB (ATLAS_INSPECT_MEMORY_MB) or runs out of CPU "
            "time ends this way.",
        )
    if output.stat().st_size > MAX_OUTPUT_BYTES:
        raise InspectionFailed(
            f"forward's maps are described by more than {MAX_OUTPUT_BYTES} bytes: too many "
            "layers or too long names.",
            code="invalid_layer",
        )
    result = json.loads(output.read_text())
    if "error" in result:
        raise InspectionFailed(result["error"]["message"], code=result["error"]["code"])
    return layers_checked(result["layers"])


def torchscript_layers(path, *, input_size, on_wait=lambda: None):
    """The layers of the TorchScript file at ``path``, measured in a limited child process.

    ``on_wait()`` is called about once a second while the child runs; what it raises stops
    the child (a cancelled job).
    """
    memory_mb = settings.ATLAS_INSPECT_MEMORY_MB
    timeout = settings.ATLAS_INSPECT_TIMEOUT_SECONDS
    with tempfile.TemporaryDirectory(prefix="atlas-inspect-") as folder:
        output = Path(folder) / "layers.json"
        command = [
            sys.executable,
            "-m",
            "workers.engine.inspection",
            str(path),
            str(input_size),
            str(output),
            str(memory_mb << 20),
            str(int(timeout) + 5),
        ]
        with (Path(folder) / "stderr.txt").open("w+b") as errors:
            process = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=_child_environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
            try:
                returncode = _wait(process, timeout=timeout, on_wait=on_wait)
            finally:
                _stopped(process)
            if returncode:
                errors.seek(max(0, errors.seek(0, os.SEEK_END) - 2000))
                logger.warning(
                    "inspection of %s ended with %s: %s",
                    path,
                    returncode,
                    errors.read().decode(errors="replace"),
                )
        return _read_result(output, returncode, memory_mb)


def source_layers(
    *, arch, weights_path, bundled_weights, random_seed, torchscript_path, input_size, on_wait
):
    """The layers of a network to register, and the SHA-256 of the bundled weights if used."""
    if torchscript_path is not None:
        return torchscript_layers(torchscript_path, input_size=input_size, on_wait=on_wait), ""
    sha256 = ""
    if bundled_weights:
        weights_path = engine_networks.bundled_weights_path(arch)
        sha256 = sha256_file(weights_path)
    loaded = engine_networks.load_builtin(
        arch, weights_path=weights_path, random_seed=random_seed, input_size=input_size
    )
    return loaded.layers, sha256


def _network_failed(network):
    inspecting = Network.objects.filter(pk=network.pk, status=Network.Status.INSPECTING)
    stored = network.weights and not network.weights.startswith(BUNDLED_PREFIX)
    if inspecting.update(status=Network.Status.FAILED) and stored:
        default_storage.delete(network.weights)


def network_inspect(*, job, report):
    """Run an inspect_network job: measure the network's layers and create its layer and unit
    rows, making it ready; on a failure the network is marked failed and the job says why."""
    network = job.network
    started = time.perf_counter()
    bundled = network.weights.startswith(BUNDLED_PREFIX)
    try:
        with tempfile.TemporaryDirectory(prefix="atlas-net-") as folder:
            stored = (
                stored_file_path(network.weights, folder)
                if network.weights and not bundled
                else None
            )
            is_torchscript = network.source == Network.Source.TORCHSCRIPT
            layers, bundled_sha256 = source_layers(
                arch=network.arch,
                weights_path=None if is_torchscript else stored,
                bundled_weights=bundled,
                random_seed=network.random_seed,
                torchscript_path=stored if is_torchscript else None,
                input_size=network.input_size,
                on_wait=lambda: report(0, 1, "inspecting the model"),
            )
    except JobCancelled:
        _network_failed(network)
        raise
    except (EngineError, ValueError) as error:
        _network_failed(network)
        if isinstance(error, EngineError):
            raise
        raise InspectionFailed(str(error)) from error
    inspected = time.perf_counter()
    with transaction.atomic():
        network_layers_create(
            network=network,
            layers=layers,
            sha256=bundled_sha256 or None,
            progress=lambda step, done, total: report(done, total, f"creating {step}"),
        )
    return {
        "inspect_seconds": round(inspected - started, 4),
        "rows_seconds": round(time.perf_counter() - inspected, 4),
        "layers": len(layers),
    }
