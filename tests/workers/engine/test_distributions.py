from functools import partial

import pytest
import torch
from PIL import Image
from torch import nn

from workers.engine.capture import capture_by_hooks
from workers.engine.dataset_examples import dataset_examples
from workers.engine.datasets import batches, folder_dataset
from workers.engine.distributions import class_means, histograms, top_classes
from workers.engine.networks import LayerInfo, LoadedNetwork

NAN = float("nan")


def test_a_histogram_spreads_the_values_over_equal_bins_from_min_to_max():
    maxima = torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0, 7.0, 8.0]])

    spread = histograms(maxima, bins=4)

    assert (spread.low.tolist(), spread.high.tolist()) == ([0.0], [8.0])
    # Bins [0, 2), [2, 4), [4, 6), [6, 8]: the maximum falls in the last.
    assert spread.counts.tolist() == [[2, 2, 1, 2]]


def test_a_unit_with_one_value_on_every_image_has_them_all_in_the_middle_bin():
    spread = histograms(torch.zeros(1, 5), bins=4)

    assert (spread.low.tolist(), spread.high.tolist()) == ([-0.5], [0.5])
    assert spread.counts.tolist() == [[0, 0, 5, 0]]


def test_nan_values_are_counted_nowhere():
    spread = histograms(torch.tensor([[1.0, NAN, 3.0], [NAN, NAN, NAN]]), bins=2)

    assert spread.counts.tolist() == [[1, 1], [0, 0]]
    assert (spread.low[0].item(), spread.high[0].item()) == (1.0, 3.0)
    assert torch.isnan(spread.low[1]) and torch.isnan(spread.high[1])


def test_histograms_need_a_bin():
    with pytest.raises(ValueError, match="bins"):
        histograms(torch.zeros(1, 2), bins=0)


def test_class_means_average_each_classes_images():
    maxima = torch.tensor([[1.0, 2.0, 6.0, 3.0], [0.0, 0.0, 0.0, 4.0]])
    classes = torch.tensor([0, 0, 2, 2])

    means = class_means(maxima, classes, count=3)

    assert means.counts.tolist() == [2, 0, 2]
    assert means.means[:, [0, 2]].tolist() == [[1.5, 4.5], [0.0, 2.0]]
    assert torch.isnan(means.means[:, 1]).all()


def test_top_classes_rank_by_mean_with_ties_in_class_order_and_skip_empty_classes():
    means = class_means(
        torch.tensor([[5.0, 1.0, 5.0, 9.0, 2.0]]), torch.tensor([0, 1, 2, 3, 4]), count=6
    )

    assert top_classes(means, 0, k=3) == [(3, 9.0), (0, 5.0), (2, 5.0)]
    assert [position for position, _ in top_classes(means, 0)] == [3, 0, 2, 4, 1]


class _ChannelMean(nn.Module):
    """Unit 0 is the mean of the pixel's red, green and blue; unit 1 minus that."""

    def __init__(self):
        super().__init__()
        self.mean = nn.Conv2d(3, 2, 1, bias=False)
        with torch.no_grad():
            self.mean.weight[0].fill_(1 / 3)
            self.mean.weight[1].fill_(-1 / 3)

    def forward(self, x):
        return self.mean(x)


def _channel_mean_network():
    return LoadedNetwork(
        _ChannelMean(),
        preprocess=nn.Identity(),
        capture=partial(capture_by_hooks, module_paths={"mean": "mean"}),
        layers=[LayerInfo("mean", "conv", 0, 2, 8, 8, 1, 1)],
        input_filters={},
        input_size=8,
        module_paths={"mean": "mean"},
    )


@pytest.fixture
def grey_classes(tmp_path):
    """Five flat grey images in two class subfolders: dark (0, 0.2) and light (0.4, 0.8, 1)."""
    for label, name, level in (
        ("dark", "a.png", 0),
        ("dark", "b.png", 51),
        ("light", "c.png", 102),
        ("light", "d.png", 204),
        ("light", "e.png", 255),
    ):
        (tmp_path / label).mkdir(exist_ok=True)
        Image.new("RGB", (8, 8), (level,) * 3).save(tmp_path / label / name)
    return folder_dataset(tmp_path, size=8)


def test_one_pass_over_a_class_folder_gives_exact_histograms_and_class_means(grey_classes):
    found = dataset_examples(
        _channel_mean_network(), ["mean"], batches(grey_classes, 2, prefetch=False), k=2
    )["mean"]

    spread = histograms(found.maxima, bins=4)
    means = class_means(
        found.maxima, grey_classes.class_numbers(found.seen), count=len(grey_classes.classes)
    )

    assert spread.counts.tolist() == [[2, 1, 0, 2], [2, 0, 1, 2]]
    assert spread.low[0].item() == 0.0
    assert spread.high[0].item() == pytest.approx(1.0)
    assert grey_classes.classes == ("dark", "light")
    assert means.counts.tolist() == [2, 3]
    assert means.means[0].tolist() == pytest.approx([0.1, 22 / 30])
    assert [position for position, _ in top_classes(means, 0)] == [1, 0]
    assert [position for position, _ in top_classes(means, 1)] == [0, 1]
    assert found.stats.fired.tolist() == [4, 0]
