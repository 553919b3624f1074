import pytest
import torch
import torch.nn.functional as F
from torch import nn

from workers.engine.linearised import linearised


def _images(seed, count=2, size=64):
    """Random [count, 3, size, size] images in [0, 1]."""
    return torch.rand(count, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _sum_defect(network, layer):
    """f(x) + f(y) − f(x + y) − f(0) of a layer's map: zero for an affine map."""
    x, y = _images(1), _images(2) - 0.5
    maps = network.activations(torch.cat([x, y, x + y, torch.zeros_like(x)]), [layer])[layer]
    fx, fy, fxy, f0 = maps.chunk(4)
    return fx + fy - fxy - f0, fxy.abs().max()


class _Gated(nn.Module):
    """Has a submodule called `linear`, which is not a switch."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)


def test_relu_computes_the_identity_inside():
    module = nn.Sequential(nn.ReLU())
    x = torch.tensor([-2.0, 3.0])

    with linearised(module):
        output = module(x)

    assert output.tolist() == [-2.0, 3.0]


def test_relu6_computes_the_identity_inside():
    module = nn.Sequential(nn.ReLU6())
    x = torch.tensor([-2.0, 9.0])

    with linearised(module):
        output = module(x)

    assert output.tolist() == [-2.0, 9.0]


def test_local_response_norm_computes_the_identity_inside():
    module = nn.Sequential(nn.LocalResponseNorm(3))
    x = torch.rand(1, 4, 2, 2)

    with linearised(module):
        output = module(x)

    assert torch.equal(output, x)


def test_max_pool_averages_over_the_same_window_inside():
    module = nn.Sequential(nn.MaxPool2d(3, stride=2, padding=1))
    x = torch.rand(1, 2, 7, 7, generator=torch.Generator().manual_seed(0))

    with linearised(module):
        output = module(x)

    torch.testing.assert_close(output, F.avg_pool2d(x, 3, stride=2, padding=1))


@pytest.mark.parametrize(
    ("network_fixture", "layer"),
    [("small_inception", "mixed3b"), ("small_mobilenet", "features.5")],
    ids=["inception_v1", "mobilenet_v2"],
)
def test_network_is_affine_inside(request, network_fixture, layer):
    network = request.getfixturevalue(network_fixture)

    with linearised(network.module):
        defect, size = _sum_defect(network, layer)

    assert defect.abs().max() < 1e-4 * size


def test_inception_is_not_affine_outside(small_inception):
    defect, size = _sum_defect(small_inception, "mixed3b")

    assert defect.abs().max() > 1e-2 * size


def test_network_outputs_are_unchanged_after_exit(small_inception):
    images = _images(3)
    before = small_inception.activations(images, ["mixed3b"])["mixed3b"]

    with linearised(small_inception.module):
        small_inception.activations(images, ["mixed3b"])
    after = small_inception.activations(images, ["mixed3b"])["mixed3b"]

    assert torch.equal(before, after)


def test_modules_are_restored_after_an_exception():
    relu, pool = nn.ReLU(), nn.MaxPool2d(2)
    module = nn.Sequential(relu, pool)

    with pytest.raises(RuntimeError), linearised(module):
        raise RuntimeError

    assert list(module) == [relu, pool]


def test_functional_switch_is_off_again_after_exit(small_inception):
    with linearised(small_inception.module):
        pass

    assert small_inception.module.linear is False


def test_submodule_named_linear_is_left_alone():
    module = _Gated()
    submodule = module.linear

    with linearised(module):
        inside = module.linear

    assert inside is submodule
