import numpy as np

from workers.formats.colours import diverging_rgb


def test_negative_is_blue_zero_white_positive_red_and_beyond_one_saturates():
    colours = diverging_rgb([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0])

    assert colours.dtype == np.uint8
    assert colours.tolist() == [
        [0, 0, 255],
        [0, 0, 255],
        [255, 255, 255],
        [255, 128, 128],
        [255, 0, 0],
        [255, 0, 0],
    ]


def test_keeps_the_shape_of_a_kernel():
    assert diverging_rgb(np.zeros((3, 5))).shape == (3, 5, 3)
