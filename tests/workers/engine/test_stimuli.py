"""The synthetic stimuli: each family drawn where and as its parameters say."""

import math

import pytest
import torch

from workers.engine.stimuli import (
    FAMILY_NAMES,
    Placement,
    blank,
    families,
    hsv_to_rgb,
    selected,
)

PLACE = Placement(size=64, centre_y=32.0, centre_x=30.0, diameter=48.0)


def draw(family_name, place=PLACE, **values):
    """The one stimulus of ``family_name`` with these parameter values."""
    family = families(place)[family_name]
    grid = family.points(0, len(family))
    wanted = [values[name] for name in family.axes]
    point = list(zip(*grid.values(), strict=True)).index(tuple(wanted))
    return family.images(place, point, point + 1)[0]


def pixel(image, u, v, place=PLACE):
    """The grey level at offset (u rightward, v upward) from the placement's centre."""
    return float(image[:, round(place.centre_y - v), round(place.centre_x + u)].mean())


def test_every_family_draws_batches_of_rgb_images_in_the_unit_range():
    for family in families(PLACE).values():
        images = family.images(PLACE, 0, 5)

        assert images.shape == (5, 3, 64, 64), family.name
        assert float(images.min()) >= 0.0
        assert float(images.max()) <= 1.0


def test_outside_the_receptive_field_every_stimulus_is_the_grey_canvas():
    rows, columns = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    outside = torch.hypot(rows - 32, columns - 30) > 25

    for family in families(PLACE).values():
        images = family.images(PLACE, 0, len(family))

        assert torch.all(images[:, :, outside] == 0.5), family.name


def test_the_grid_sizes_follow_the_angle_and_hue_steps():
    found = families(PLACE, angle_step=30.0, hue_step=60.0)

    assert {name: family.shape for name, family in found.items()} == {
        "edge": (12,),
        "line": (6, 3, 2),
        "grating": (6, 4, 4),
        "curve": (12, 5, 2),
        "colour": (6, 2),
        "colour_contrast": (6, 6, 4),
        "dot": (8, 2),
    }


def test_an_edge_is_light_on_the_left_of_its_direction():
    image = draw("edge", direction=90.0)

    assert pixel(image, -10, 0) == 1.0
    assert pixel(image, 10, 0) == 0.0
    assert pixel(image, 0, 10) == pytest.approx(0.5)


def test_a_dark_line_runs_along_its_orientation():
    image = draw("line", orientation=45.0, width=1 / 8, polarity=-1.0)

    assert pixel(image, 10, 10) == 0.0
    assert pixel(image, -10, -10) == 0.0
    assert pixel(image, 10, -10) == 0.5


def test_a_grating_has_its_frequency_in_cycles_per_field():
    image = draw("grating", orientation=0.0, frequency=2.0, phase=0.0)
    column = image[0, :, 30] - 0.5
    period = 48.0 / 2

    assert float(column[32]) > 0.49
    assert float(column[32 - round(period / 2)]) < 0
    assert float(column[32 - round(period)]) > 0


def test_gratings_too_fine_for_a_small_field_are_left_out():
    small = Placement(size=16, centre_y=8.0, centre_x=8.0, diameter=5.0)

    assert families(small)["grating"].axes["frequency"] == (1.0, 2.0)


def test_a_curve_bends_to_the_left_of_its_orientation():
    image = draw("curve", orientation=0.0, curvature=2.0, polarity=1.0)
    # On the circle of diameter D through the centre, 45° around from the centre.
    u, v = 24 * math.sin(math.pi / 4), 24 * (1 - math.cos(math.pi / 4))

    assert pixel(image, 0, 0) == 1.0
    assert pixel(image, u, v) > 0.9
    assert pixel(image, u, -v) == 0.5


def test_a_straight_curve_is_the_same_both_ways_and_a_bent_one_is_not():
    assert torch.equal(
        draw("curve", orientation=30.0, curvature=0.0, polarity=1.0),
        draw("curve", orientation=210.0, curvature=0.0, polarity=1.0),
    )
    assert not torch.equal(
        draw("curve", orientation=30.0, curvature=1.0, polarity=1.0),
        draw("curve", orientation=210.0, curvature=1.0, polarity=1.0),
    )


def test_a_dot_covers_the_area_of_its_radius():
    image = draw("dot", radius=0.25, polarity=1.0)
    radius = 0.25 * 48

    covered = float((image[0] - 0.5).sum() / 0.5)

    assert covered == pytest.approx(math.pi * radius**2, rel=0.02)


def test_colours_are_the_hues_at_full_saturation():
    rgb = hsv_to_rgb(torch.tensor([0.0, 60.0, 120.0, 240.0]), torch.ones(4), torch.ones(4))

    assert rgb.tolist() == [[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_a_colour_contrast_pair_puts_the_first_hue_on_the_left():
    image = draw("colour_contrast", hue_left=0.0, hue_right=240.0, orientation=0.0)

    assert image[:, 22, 30].tolist() == [1.0, 0.0, 0.0]
    assert image[:, 42, 30].tolist() == [0.0, 0.0, 1.0]


def test_the_blank_canvas_is_grey():
    assert torch.all(blank(PLACE) == 0.5)


def test_selected_families_keep_the_canonical_order():
    names = [family.name for family in selected(["dot", "edge", "colour"], PLACE)]

    assert names == ["edge", "colour", "dot"]
    assert set(FAMILY_NAMES) == set(families(PLACE))
