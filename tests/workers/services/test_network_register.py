import pickle
from pathlib import Path

import pytest
import torch
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from server.errors import Conflict, ValidationFailed
from workers.engine.networks import load_builtin
from workers.models import Layer, Network, Unit
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db

MOBILENET_V2_UNITS = 17056


class RunsCode:
    """A pickle that would create a marker file when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def stored_files():
    root = Path(default_storage.location)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_nothing_left_behind():
    assert Network.objects.count() == 0
    assert Layer.objects.count() == 0
    assert Unit.objects.count() == 0
    assert stored_files() == []


def test_bundled_mobilenet_registers_its_real_layers_and_units():
    network = network_register(name="mobilenet-v2", arch="mobilenet_v2", bundled_weights=True)

    layers = {layer.name: layer for layer in network.layers.all()}
    assert network.weights == "bundled:mobilenet_v2"
    assert len(network.weights_sha256) == 64
    assert len(layers) == 52
    first = layers["features.0"]
    assert (first.order, first.channels, first.height, first.width) == (0, 32, 112, 112)
    assert (first.receptive_field, first.stride) == (3, 2)
    assert layers["features.18"].channels == 1280
    assert network.units.count() == MOBILENET_V2_UNITS
    assert list(first.units.values_list("index", flat=True)) == list(range(32))


def test_random_inception_registers_the_papers_layer_names():
    network = network_register(
        name="inception-random", arch="inception_v1", random_seed=3, input_size=224
    )

    names = list(network.layers.values_list("name", "channels"))
    assert names[:5] == [
        ("conv2d0", 64),
        ("conv2d1", 64),
        ("conv2d2", 192),
        ("mixed3a", 256),
        ("mixed3b", 480),
    ]
    assert network.layers.get(name="mixed3b").receptive_field == 91
    assert network.is_random


def test_an_uploaded_state_dict_is_stored_for_the_workers(tmp_path):
    weights = tmp_path / "inception.pt"
    torch.save(
        load_builtin("inception_v1", random_seed=1, input_size=64).module.state_dict(), weights
    )
    upload = SimpleUploadedFile("inception.pt", weights.read_bytes())

    network = network_register(name="inception", arch="inception_v1", weights=upload, input_size=64)

    assert default_storage.exists(network.weights)
    assert default_storage.open(network.weights).read() == weights.read_bytes()


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ValidationFailed) as error:
        network_register(name="net", arch="mobilenet_v2", weights=tmp_path / "absent.pt")

    assert error.value.code == "missing_file"
    assert_nothing_left_behind()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "corrupt_file"),
        (b"\x00\x01 definitely not a state dict", "corrupt_file"),
    ],
)
def test_a_corrupt_file_is_refused(content, code):
    upload = SimpleUploadedFile("weights.pt", content)

    with pytest.raises(ValidationFailed) as error:
        network_register(name="net", arch="mobilenet_v2", weights=upload)

    assert error.value.code == code
    assert_nothing_left_behind()


def test_a_truncated_file_is_refused(tmp_path):
    weights = tmp_path / "full.pt"
    torch.save(
        load_builtin("inception_v1", random_seed=1, input_size=64).module.state_dict(), weights
    )
    upload = SimpleUploadedFile("weights.pt", weights.read_bytes()[:50_000])

    with pytest.raises(ValidationFailed) as error:
        network_register(name="net", arch="inception_v1", weights=upload)

    assert error.value.code == "corrupt_file"
    assert_nothing_left_behind()


def test_weights_of_another_architecture_are_refused(tmp_path):
    weights = tmp_path / "inception.pt"
    torch.save(
        load_builtin("inception_v1", random_seed=1, input_size=64).module.state_dict(), weights
    )

    with pytest.raises(ValidationFailed) as error:
        network_register(name="net", arch="mobilenet_v2", weights=weights)

    assert error.value.code == "architecture_mismatch"
    assert "mobilenet_v2" in error.value.detail
    assert_nothing_left_behind()


def test_a_pickle_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    upload = SimpleUploadedFile("weights.pt", pickle.dumps({"weight": RunsCode(marker)}))

    with pytest.raises(ValidationFailed) as error:
        network_register(name="net", arch="mobilenet_v2", weights=upload)

    assert error.value.code == "unsafe_file"
    assert not marker.exists()
    assert_nothing_left_behind()


def test_a_torch_save_archive_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    weights = tmp_path / "weights.pt"
    torch.save({"features.0.0.weight": RunsCode(marker)}, weights)

    with pytest.raises(ValidationFailed) as error:
        network_register(name="net", arch="mobilenet_v2", weights=weights)

    assert error.value.code == "unsafe_file"
    assert not marker.exists()
    assert_nothing_left_behind()


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"name": "Bad Name", "arch": "mobilenet_v2", "random_seed": 0}, "name"),
        ({"name": "net", "arch": "resnet50", "random_seed": 0}, "arch"),
        ({"name": "net", "arch": "mobilenet_v2"}, "source"),
        (
            {"name": "net", "arch": "mobilenet_v2", "random_seed": 0, "bundled_weights": True},
            "source",
        ),
        ({"name": "net", "arch": "mobilenet_v2", "random_seed": 0, "input_size": 8}, "input_size"),
    ],
)
def test_malformed_requests_name_the_bad_field(request_fields, field):
    with pytest.raises(ValidationFailed) as error:
        network_register(**request_fields)

    assert field in error.value.fields
    assert_nothing_left_behind()


def test_a_taken_name_is_a_conflict():
    network_register(name="net", arch="inception_v1", random_seed=0, input_size=64)

    with pytest.raises(Conflict) as error:
        network_register(name="net", arch="inception_v1", random_seed=1, input_size=64)

    assert error.value.code == "name_taken"
    assert Network.objects.count() == 1


def test_a_failure_while_creating_units_leaves_no_rows_and_no_file(monkeypatch, tmp_path):
    weights = tmp_path / "inception.pt"
    torch.save(
        load_builtin("inception_v1", random_seed=1, input_size=64).module.state_dict(), weights
    )

    def explode(*args, **kwargs):
        raise RuntimeError("database went away mid-registration")

    monkeypatch.setattr(Unit.objects, "bulk_create", explode)

    with pytest.raises(RuntimeError):
        network_register(name="net", arch="inception_v1", weights=weights, input_size=64)

    assert_nothing_left_behind()


def test_a_seed_out_of_range_is_refused_before_anything_is_built():
    with pytest.raises(ValidationFailed) as error:
        network_register(name="net", arch="inception_v1", random_seed=2**31, input_size=64)

    assert list(error.value.fields) == ["random_seed"]
    assert Network.objects.count() == 0


class NamedMap(torch.nn.Module):
    """A TorchScript model whose one map has the given name."""

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return {self.name: x}


@pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("layer_name", ["x" * 101, "conv\x001", "conv\n1"])
def test_a_torchscript_layer_name_the_catalog_cannot_hold_is_refused(tmp_path, layer_name):
    path = tmp_path / "model.ts"
    torch.jit.script(NamedMap(layer_name)).save(str(path))

    with pytest.raises(ValidationFailed) as error:
        network_register(name="net", torchscript=path, input_size=32)

    assert error.value.code == "invalid_layer_name"
    assert list(error.value.fields) == ["file"]
    assert_nothing_left_behind()
