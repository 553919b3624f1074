import torch
import torch.nn.functional as F
from torch import nn

from workers.engine.featurevis.relu import Rectifier, redirected, replace_rectifiers


def gradient(rectifier, x, upstream):
    x = x.clone().requires_grad_(True)
    (rectifier(x) * upstream).sum().backward()
    return x.grad


def test_rectifiers_compute_relu_and_relu6():
    x = torch.linspace(-3, 9, 25).view(1, 1, 5, 5)

    torch.testing.assert_close(Rectifier(None)(x), F.relu(x))
    torch.testing.assert_close(Rectifier(6.0)(x), F.relu6(x))


def test_without_redirect_a_silent_image_gets_no_gradient():
    x = -torch.ones(1, 1, 2, 2)

    assert gradient(Rectifier(None), x, -torch.ones_like(x)).eq(0).all()


def test_redirect_lets_a_silent_image_be_pushed_up():
    rectifier = Rectifier(None)
    x = -torch.ones(1, 1, 2, 2)

    with redirected(rectifier):
        grad = gradient(rectifier, x, -torch.ones_like(x))

    assert grad.eq(-1).all()


def test_redirect_never_pushes_a_silent_image_further_down():
    rectifier = Rectifier(None)
    x = -torch.ones(1, 1, 2, 2)

    with redirected(rectifier):
        grad = gradient(rectifier, x, torch.ones_like(x))

    assert grad.eq(0).all()


def test_redirect_lets_a_saturated_relu6_image_be_pushed_down():
    rectifier = Rectifier(6.0)
    x = torch.full((1, 1, 2, 2), 7.0)

    with redirected(rectifier):
        grad = gradient(rectifier, x, torch.ones_like(x))

    assert grad.eq(1).all()


def test_redirect_keeps_the_true_gradient_of_images_where_it_is_not_zero():
    rectifier = Rectifier(None)
    x = torch.tensor([[-1.0, -1.0], [-1.0, 2.0]]).view(2, 1, 1, 2)

    with redirected(rectifier):
        grad = gradient(rectifier, x, -torch.ones_like(x))

    assert grad.flatten().tolist() == [-1.0, -1.0, 0.0, -1.0]


def test_redirect_ends_with_the_block():
    rectifier = Rectifier(None)

    with redirected(rectifier):
        pass

    assert rectifier.redirect is False


def test_redirect_can_be_disabled():
    rectifier = Rectifier(None)

    with redirected(rectifier, enabled=False):
        assert rectifier.redirect is False


def test_replace_rectifiers_swaps_every_relu_and_relu6():
    module = nn.Sequential(nn.ReLU(), nn.Sequential(nn.Conv2d(1, 1, 1), nn.ReLU6()), nn.Tanh())

    assert replace_rectifiers(module) == 2
    assert [type(m).__name__ for m in module.modules()] == [
        "Sequential",
        "Rectifier",
        "Sequential",
        "Conv2d",
        "Rectifier",
        "Tanh",
    ]
    assert (module[0].high, module[1][1].high) == (None, 6.0)
