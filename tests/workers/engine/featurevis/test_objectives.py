import torch

from workers.engine.featurevis.objectives import (
    DIVERSITY_WEIGHT,
    Targets,
    channel,
    diversity,
    group_similarity,
    negative,
    neuron,
)


def random_maps(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_channel_is_the_mean_of_each_images_own_unit_map_floored_at_its_top_decile():
    maps = torch.zeros(2, 3, 4, 4)
    maps[0, 2] = torch.arange(16.0).reshape(4, 4)
    maps[1, 0] = -torch.arange(16.0).reshape(4, 4)
    targets = Targets(units=torch.tensor([2, 0]))

    # The 90th percentile of 0…15 is 13.5 (linear interpolation), of -15…0 it is -1.5.
    expected = torch.tensor([(14 * 13.5 + 14 + 15) / 16, (14 * -1.5 - 1 + 0) / 16])

    torch.testing.assert_close(channel(maps, targets), expected)


def test_channel_passes_its_gradient_to_the_top_decile_of_the_map_only():
    maps = torch.arange(20.0).reshape(1, 1, 4, 5).requires_grad_(True)

    channel(maps, Targets(units=torch.tensor([0]))).sum().backward()

    # The 90th percentile of 0…19 is 17.1: positions 18 and 19 lie above it.
    expected = torch.zeros(20)
    expected[18:] = 1 / 20
    torch.testing.assert_close(maps.grad.flatten(), expected)


def test_neuron_reads_the_lower_right_of_the_centre_two_by_two_for_even_sizes():
    maps = torch.zeros(1, 2, 4, 6)
    maps[0, 1, 2, 3] = 5.0

    assert neuron(maps, Targets(units=torch.tensor([1]))).tolist() == [5.0]


def test_neuron_reads_the_centre_for_odd_sizes():
    maps = torch.zeros(1, 2, 5, 5)
    maps[0, 0, 2, 2] = 3.0

    assert neuron(maps, Targets(units=torch.tensor([0]))).tolist() == [3.0]


def test_negative_is_minus_the_spatial_mean_of_each_images_own_unit_map():
    maps = random_maps(3, 4, 5, 5)
    targets = Targets(units=torch.tensor([3, 1, 0]))

    expected = -torch.stack([maps[0, 3].mean(), maps[1, 1].mean(), maps[2, 0].mean()])

    torch.testing.assert_close(negative(maps, targets), expected)


def test_similarity_of_identical_images_is_one_per_other_image_of_the_group():
    maps = random_maps(1, 3, 4, 4).expand(3, 3, 4, 4)

    torch.testing.assert_close(group_similarity(maps, 3), torch.full((3,), 2.0))


def test_similarity_of_images_with_orthogonal_grams_is_zero():
    maps = torch.zeros(2, 2, 1, 1)
    maps[0, 0] = 1.0
    maps[1, 1] = 1.0

    assert group_similarity(maps, 2).tolist() == [0.0, 0.0]


def test_diversity_is_channel_minus_the_weighted_similarity_to_the_group():
    maps = random_maps(1, 3, 4, 4).expand(2, 3, 4, 4)
    targets = Targets(units=torch.tensor([1, 1]), group=2)

    expected = channel(maps, targets) - DIVERSITY_WEIGHT

    torch.testing.assert_close(diversity(maps, targets), expected)


def test_diversity_of_a_group_ignores_the_images_of_other_groups():
    maps = random_maps(4, 3, 4, 4)
    changed = maps.clone()
    changed[2:] = random_maps(2, 3, 4, 4, seed=1)
    targets = Targets(units=torch.tensor([0, 0, 2, 2]), group=2)

    torch.testing.assert_close(diversity(changed, targets)[:2], diversity(maps, targets)[:2])
