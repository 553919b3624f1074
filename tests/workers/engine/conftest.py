import pytest

from workers.engine.networks import bundled_weights_path, load_builtin


@pytest.fixture(scope="session")
def pretrained_mobilenet():
    """MobileNetV2 with the real ImageNet weights; shared, so tests must not modify it."""
    return load_builtin("mobilenet_v2", weights_path=bundled_weights_path("mobilenet_v2"))


@pytest.fixture
def small_mobilenet():
    """A fresh randomly initialised MobileNetV2 at 64 px, free to modify."""
    return load_builtin("mobilenet_v2", random_seed=0, input_size=64)


@pytest.fixture
def small_inception():
    """A fresh randomly initialised InceptionV1 at 64 px, free to modify."""
    return load_builtin("inception_v1", random_seed=0, input_size=64)
