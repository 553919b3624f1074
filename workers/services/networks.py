"""Registering a network and creating its layer and unit rows in bulk.

Through the API a registration is a request: checked and stored here, then measured by a
worker's inspect_network job (``network_inspection``), so that the web process never imports
torch nor runs a user's model. The command line registers at once (``network_register``).
"""

import logging
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q

from server.errors import Conflict, Unprocessable, ValidationFailed
from workers.engine.errors import EngineError
from workers.models import Job, Layer, Network, Unit
from workers.services.jobs import job_request_inspection
from workers.storage import sha256_file

logger = logging.getLogger(__name__)

BUNDLED_PREFIX = "bundled:"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
MIN_INPUT_SIZE, MAX_INPUT_SIZE = 32, 1024
# The catalog stores the seed in a 32-bit integer column.
MAX_RANDOM_SEED = 2**31 - 1
UNIT_BATCH_SIZE = 5000
# The engine's built-in architectures (``workers.engine.architectures``), named here so that
# checking a request needs no torch.
ARCHITECTURES = ("mobilenet_v2", "inception_v1")


def _validate_request(
    *, name, arch, weights, bundled_weights, random_seed, torchscript, input_size
):
    fields = {}
    if not NAME_PATTERN.fullmatch(name or ""):
        fields["name"] = [
            "Use 1-100 lowercase letters, digits, '-' or '_', starting with a letter or digit."
        ]
    sources = [
        weights is not None,
        bool(bundled_weights),
        random_seed is not None,
        torchscript is not None,
    ]
    if sum(sources) != 1:
        fields["source"] = [
            "Give exactly one of: a weights file, the bundled weights, random "
            "weights (a seed), or a TorchScript file."
        ]
    if torchscript is None and arch not in ARCHITECTURES:
        known = ", ".join(sorted(ARCHITECTURES))
        fields["arch"] = [f"Unknown architecture {arch!r}; built-in ones are: {known}."]
    if torchscript is not None and arch:
        fields["arch"] = ["A TorchScript file carries its own architecture; leave arch empty."]
    if random_seed is not None and (
        isinstance(random_seed, bool)
        or not isinstance(random_seed, int)
        or not 0 <= random_seed <= MAX_RANDOM_SEED
    ):
        fields["random_seed"] = [f"Must be an integer from 0 to {MAX_RANDOM_SEED}."]
    if not isinstance(input_size, int) or not MIN_INPUT_SIZE <= input_size <= MAX_INPUT_SIZE:
        fields["input_size"] = [f"Must be an integer from {MIN_INPUT_SIZE} to {MAX_INPUT_SIZE}."]
    if fields:
        # Which source and architecture go together is a rule across fields (422); anything
        # else wrong is a bad field (400).
        error = Unprocessable if set(fields) <= {"source", "arch"} else ValidationFailed
        raise error("The network cannot be registered as asked.", fields=fields)
    if Network.objects.filter(name=name).exclude(pk__in=_replaceable(name)).exists():
        raise Conflict(f"A network named {name!r} is already registered.", code="name_taken")


def _replaceable(name):
    """Ids of the networks called ``name`` that a new registration replaces: a failed one, and
    one left inspecting by an inspection that ended otherwise (cancelled, workers lost)."""
    live_inspection = Job.objects.filter(
        network=OuterRef("pk"), kind=Job.Kind.INSPECT_NETWORK, status__in=Job.ACTIVE_STATUSES
    )
    abandoned = Q(status=Network.Status.INSPECTING) & ~Exists(live_inspection)
    return (
        Network.objects.filter(name=name)
        .filter(Q(status=Network.Status.FAILED) | abandoned)
        .values_list("pk", flat=True)
    )


@contextmanager
def _local_copy(source):
    """A path on local disk for ``source`` (a path or an uploaded file), removed afterwards."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise ValidationFailed(
                f"No file at {path}.", code="missing_file", fields={"file": [f"No file at {path}."]}
            )
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="atlas-upload-") as folder:
        suffix = Path(getattr(source, "name", "") or "upload").suffix
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as out:
            if hasattr(source, "chunks"):
                for chunk in source.chunks():
                    out.write(chunk)
            else:
                shutil.copyfileobj(source, out)
        yield path


def _measured(**source):
    """The layers of a network to register, measured here (the command line)."""
    from workers.services.network_inspection import source_layers

    try:
        return source_layers(**source, on_wait=lambda: None)
    except EngineError as error:
        raise ValidationFailed(
            str(error), code=error.code, fields={"file": [str(error)]}
        ) from error


def _store(path, *, name, sha256, is_torchscript):
    suffix = ".ts" if is_torchscript else (Path(path).suffix or ".pt")
    with Path(path).open("rb") as handle:
        return default_storage.save(f"networks/{name}/{sha256[:16]}/weights{suffix}", File(handle))


def network_register(
    *,
    name,
    arch="",
    weights=None,
    bundled_weights=False,
    random_seed=None,
    torchscript=None,
    input_size=224,
    description="",
    actor=None,
    progress=None,
):
    """Register a network and create its layers and units here and now, all or nothing.

    ``weights`` and ``torchscript`` are local paths or uploaded files; they are loaded only with
    ``torch.load(weights_only=True)``, safetensors, or ``torch.jit.load`` in a limited child
    process, and copied into the artifact storage so that workers on other machines find them.
    ``progress(step, done, total)`` is called as the rows are created.
    """
    _validate_request(
        name=name,
        arch=arch,
        weights=weights,
        bundled_weights=bundled_weights,
        random_seed=random_seed,
        torchscript=torchscript,
        input_size=input_size,
    )
    about = {
        "name": name,
        "random_seed": random_seed,
        "input_size": input_size,
        "description": description,
        "actor": actor,
        "progress": progress,
    }
    upload = weights if weights is not None else torchscript
    if upload is None:
        layers, sha256 = _measured(
            arch=arch,
            weights_path=None,
            bundled_weights=bundled_weights,
            random_seed=random_seed,
            torchscript_path=None,
            input_size=input_size,
        )
        stored_name = BUNDLED_PREFIX + arch if bundled_weights else ""
        return _create_rows(
            is_torchscript=False,
            arch=arch,
            stored_name=stored_name,
            sha256=sha256,
            layers=layers,
            **about,
        )

    is_torchscript = torchscript is not None
    with _local_copy(upload) as path:
        layers, _ = _measured(
            arch=arch,
            weights_path=None if is_torchscript else path,
            bundled_weights=False,
            random_seed=None,
            torchscript_path=path if is_torchscript else None,
            input_size=input_size,
        )
        sha256 = sha256_file(path)
        stored_name = _store(path, name=name, sha256=sha256, is_torchscript=is_torchscript)
    try:
        return _create_rows(
            is_torchscript=is_torchscript,
            arch=arch,
            stored_name=stored_name,
            sha256=sha256,
            layers=layers,
            **about,
        )
    except BaseException:
        default_storage.delete(stored_name)
        raise


def network_register_request(
    *,
    name,
    arch="",
    weights=None,
    bundled_weights=False,
    random_seed=None,
    torchscript=None,
    input_size=224,
    description="",
    actor=None,
):
    """Record a network to register and queue the worker job that inspects it; returns
    ``(network, job)``. The network has no layers until the job succeeds (status
    ``inspecting``, then ``ready``, or ``failed`` with the job's error). A failed network of
    the same name is replaced. Runs no model and imports no torch.
    """
    _validate_request(
        name=name,
        arch=arch,
        weights=weights,
        bundled_weights=bundled_weights,
        random_seed=random_seed,
        torchscript=torchscript,
        input_size=input_size,
    )
    is_torchscript = torchscript is not None
    upload = weights if weights is not None else torchscript
    stored_name, sha256 = (BUNDLED_PREFIX + arch if bundled_weights else ""), ""
    if upload is not None:
        with _local_copy(upload) as path:
            sha256 = sha256_file(path)
            stored_name = _store(path, name=name, sha256=sha256, is_torchscript=is_torchscript)
    try:
        with transaction.atomic():
            Network.objects.filter(pk__in=list(_replaceable(name))).delete()
            network = _network_create(
                name=name,
                is_torchscript=is_torchscript,
                arch=arch,
                stored_name=stored_name,
                sha256=sha256,
                random_seed=random_seed,
                input_size=input_size,
                description=description,
                actor=actor,
            )
            job = job_request_inspection(network=network, actor=actor)
    except BaseException as error:
        if upload is not None:
            default_storage.delete(stored_name)
        if isinstance(error, IntegrityError):
            raise _name_taken(name) from error
        raise
    return network, job


def _network_create(
    *,
    name,
    is_torchscript,
    arch,
    stored_name,
    sha256,
    random_seed,
    input_size,
    description,
    actor,
):
    """The network's row, inspecting until its layer and unit rows exist."""
    return Network.objects.create(
        name=name,
        source=Network.Source.TORCHSCRIPT if is_torchscript else Network.Source.BUILTIN,
        arch="" if is_torchscript else arch,
        weights=stored_name,
        weights_sha256=sha256,
        random_seed=random_seed,
        input_size=input_size,
        description=description,
        status=Network.Status.INSPECTING,
        created_by=actor,
    )


def _name_taken(name):
    return Conflict(f"A network named {name!r} is already registered.", code="name_taken")


def _create_rows(*, layers, progress, **network):
    """The network's row and its layer and unit rows, all or nothing."""
    try:
        with transaction.atomic():
            created = _network_create(**network)
            network_layers_create(network=created, layers=layers, progress=progress)
    except IntegrityError as error:
        raise _name_taken(network["name"]) from error
    created.refresh_from_db()
    return created


def network_layers_create(*, network, layers, sha256=None, progress=None):
    """Create the layer and unit rows of a network being inspected and mark it ready; a no-op
    returning False when it is not being inspected (a second delivery of its job).

    ``layers`` are ``LayerInfo``-like; ``sha256`` records the bundled weights' hash.
    """
    progress = progress or (lambda step, done, total: None)
    ready = {"status": Network.Status.READY}
    if sha256:
        ready["weights_sha256"] = sha256
    with transaction.atomic():
        inspecting = Network.objects.filter(pk=network.pk, status=Network.Status.INSPECTING)
        if not inspecting.update(**ready):
            return False
        layer_rows = Layer.objects.bulk_create(
            [
                Layer(
                    network=network,
                    name=info.name,
                    kind=info.kind,
                    order=info.order,
                    channels=info.channels,
                    height=info.height,
                    width=info.width,
                    receptive_field=info.receptive_field,
                    stride=info.stride,
                )
                for info in layers
            ]
        )
        total_units = sum(info.channels for info in layers)
        created = 0
        for layer in layer_rows:
            Unit.objects.bulk_create(
                [Unit(network=network, layer=layer, index=i) for i in range(layer.channels)],
                batch_size=UNIT_BATCH_SIZE,
            )
            created += layer.channels
            progress("units", created, total_units)
    logger.info("registered network %s: %d layers", network.name, len(layer_rows))
    return True
