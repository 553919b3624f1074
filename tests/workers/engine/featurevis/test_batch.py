import numpy as np
import torch

from workers.engine.featurevis.batch import curve_steps, item_generator, to_uint8


def test_an_images_generator_depends_only_on_seed_unit_and_variant():
    first = torch.randn(4, generator=item_generator(0, 7, "positive"))
    again = torch.randn(4, generator=item_generator(0, 7, "positive"))

    assert torch.equal(first, again)


def test_variants_of_a_unit_start_from_different_draws():
    positive = torch.randn(4, generator=item_generator(0, 7, "positive"))
    negative = torch.randn(4, generator=item_generator(0, 7, "negative"))

    assert not torch.equal(positive, negative)


def test_the_seed_changes_the_draws():
    seed_0 = torch.randn(4, generator=item_generator(0, 7, "positive"))
    seed_1 = torch.randn(4, generator=item_generator(1, 7, "positive"))

    assert not torch.equal(seed_0, seed_1)


def test_curve_steps_are_every_eighth_step_and_the_last():
    assert curve_steps(20) == [0, 8, 16, 19]


def test_curve_steps_of_a_multiple_of_eight_plus_one_end_on_a_sampled_step():
    assert curve_steps(17) == [0, 8, 16]


def test_to_uint8_rounds_clamps_and_moves_channels_last():
    images = torch.tensor([-0.5, 0.0, 0.5, 1.0, 2.0, 0.1]).view(1, 3, 1, 2)

    assert np.array_equal(to_uint8(images), np.array([[[[0, 128, 255], [0, 255, 26]]]]))
