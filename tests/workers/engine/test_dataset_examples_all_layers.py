"""One dataset-examples pass over every studied layer of the real MobileNetV2 gives each layer
exactly what a pass over that layer alone gives (issue 21, acceptance 3)."""

import pytest
import torch

from workers.engine.dataset_examples import dataset_examples
from workers.engine.datasets import ImageDataset, batches, demo_dataset
from workers.engine.spool import MaximaSpool

# 8 demo crops of different photos, in batches of 3, 3 and 2: the running top-k merges across
# batches (k above a batch, below the image count), and ReLU6 maps saturated at 6 give ties.
# Few images: the 52 passes over one layer each cost about 26 whole forwards.
IMAGES = 8
BATCH = 3
K = 4


@pytest.fixture(scope="module")
def decoded():
    whole = demo_dataset(size=224)
    dataset = ImageDataset(whole.images[::31][:IMAGES], size=224)
    return list(batches(dataset, BATCH, prefetch=False))


def _fields(layer):
    """Everything a layer's result holds, by name: what must agree exactly."""
    return {
        "top.values": layer.top.values,
        "top.images": layer.top.images,
        "top.positions": layer.top.positions,
        "bottom.values": layer.bottom.values,
        "bottom.images": layer.bottom.images,
        "bottom.positions": layer.bottom.positions,
        "mean": layer.stats.mean,
        "max": layer.stats.max,
        "fraction_active": layer.stats.fraction_active,
        "fired": layer.stats.fired,
        "seen": layer.seen,
        "images and count": torch.tensor([layer.images, layer.stats.count]),
    }


def test_one_pass_over_every_layer_equals_the_passes_over_each_layer(pretrained_mobilenet, decoded):
    names = [layer.name for layer in pretrained_mobilenet.layers]
    units = sum(layer.channels for layer in pretrained_mobilenet.layers)
    with MaximaSpool(units) as spool:
        together = dataset_examples(pretrained_mobilenet, names, decoded, k=K, spool=spool)
        spooled = torch.cat(list(spool.chunks()), dim=1)

    assert len(names) == 52 and units == 17056
    assert list(together) == names
    differing = []
    for name in names:
        alone = dataset_examples(pretrained_mobilenet, [name], decoded, k=K)[name]
        expected = {**_fields(alone), "maxima": alone.maxima}
        got = {**_fields(together[name]), "maxima": spooled[together[name].units]}
        differing += [
            f"{name} {field}"
            for field, value in expected.items()
            if got[field].dtype != value.dtype
            or not torch.equal(got[field].nan_to_num(-7.5), value.nan_to_num(-7.5))
        ]
    assert differing == []
