import pytest
import torch

from tests.factories.workers import NetworkFactory
from workers import runtime
from workers.engine.featurevis.options import RenderOptions
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache(monkeypatch, settings):
    settings.ATLAS_DEVICE = "cpu"
    monkeypatch.setattr(runtime, "_networks", runtime.OrderedDict())
    monkeypatch.setattr(runtime, "_device", None)


def test_a_network_is_loaded_once_and_then_served_from_the_cache():
    network = network_register(name="tiny", arch="inception_v1", random_seed=0, input_size=64)

    first = runtime.network_for(network)
    again = runtime.network_for(network)

    assert again is first
    assert [layer.name for layer in first.layers][:2] == ["conv2d0", "conv2d1"]


def test_the_cache_keeps_only_the_most_recently_used_networks(settings):
    settings.ATLAS_NETWORK_CACHE_SIZE = 1
    one = network_register(name="one", arch="inception_v1", random_seed=0, input_size=64)
    two = network_register(name="two", arch="inception_v1", random_seed=1, input_size=64)
    first = runtime.network_for(one)

    runtime.network_for(two)

    assert runtime.network_for(one) is not first
    assert len(runtime._networks) == 1


def test_a_random_network_loads_with_its_recorded_seed():
    a = NetworkFactory(arch="inception_v1", random_seed=5, input_size=64)
    b = NetworkFactory(arch="inception_v1", random_seed=5, input_size=64)

    weights_a = runtime.network_for(a).module.state_dict()
    weights_b = runtime.network_for(b).module.state_dict()

    assert all((weights_a[key] == weights_b[key]).all() for key in weights_a)


def test_the_device_comes_from_the_setting():
    assert runtime.device_name() == "cpu"


@pytest.mark.parametrize(
    ("device", "setting", "expected"),
    [
        ("cpu", False, RenderOptions(compile=False, space_to_depth_stem=False)),
        ("cpu", True, RenderOptions(compile=False, space_to_depth_stem=False)),
        ("cuda", False, RenderOptions(compile=False, space_to_depth_stem=True)),
        ("cuda", True, RenderOptions(compile=True, space_to_depth_stem=True)),
    ],
)
def test_renders_compile_on_cuda_only_when_the_setting_says_so(
    settings, monkeypatch, device, setting, expected
):
    settings.ATLAS_COMPILE_RENDERS = setting
    # A stand-in for a worker's GPU: building the options touches no CUDA.
    monkeypatch.setattr(runtime, "_device", torch.device(device))

    assert runtime.render_options() == expected


def test_the_worker_id_names_host_and_process():
    host, pid = runtime.worker_id().rsplit(":", 1)

    assert host
    assert int(pid) > 0


def test_a_network_asked_for_on_another_device_is_a_separate_cache_entry(monkeypatch):
    # A stand-in for a worker's GPU: this machine has only the CPU.
    monkeypatch.setattr(runtime, "_device", torch.device("meta"))
    network = network_register(name="tiny", arch="inception_v1", random_seed=0, input_size=64)

    on_process_device = runtime.network_for(network)
    on_cpu = runtime.network_for(network, on=torch.device("cpu"))

    assert runtime.network_for(network, on=torch.device("cpu")) is on_cpu
    assert next(on_cpu.module.parameters()).device.type == "cpu"
    assert len(runtime._networks) == 2
    assert runtime.network_for(network) is on_process_device
    assert next(on_process_device.module.parameters()).device.type == "meta"
