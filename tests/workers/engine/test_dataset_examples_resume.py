"""A dataset-examples pass stopped at a checkpoint and resumed in a fresh state gives the
uninterrupted pass's results bit for bit (issue 21, resumable passes)."""

import io

import pytest
import torch

from workers.engine.dataset_examples import dataset_examples

BATCH = 4
IMAGES = 24
K = 3


@pytest.fixture
def images():
    generator = torch.Generator().manual_seed(0)
    pixels = torch.rand(IMAGES, 3, 64, 64, generator=generator)
    # Ties: two identical images, and a black one on which every ReLU map is flat.
    pixels[7] = pixels[2]
    pixels[13] = 0
    return pixels


def _batches(images, start=0):
    return [
        (torch.arange(first, first + BATCH), images[first : first + BATCH])
        for first in range(start, IMAGES, BATCH)
    ]


def _round_trip(state):
    """The state as a checkpoint store keeps it: saved to bytes and loaded back."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _fields(result):
    return {
        name: [
            *layer.top.__dict__.values(),
            *layer.bottom.__dict__.values(),
            layer.stats.mean,
            layer.stats.max,
            layer.stats.fraction_active,
            layer.stats.fired,
            layer.maxima,
            layer.seen,
            torch.tensor([layer.images, layer.stats.count]),
        ]
        for name, layer in result.items()
    }


def _assert_identical(resumed, whole):
    assert resumed.keys() == whole.keys()
    for name in whole:
        for got, expected in zip(resumed[name], whole[name], strict=True):
            assert got.dtype == expected.dtype
            assert torch.equal(got.nan_to_num(7.5), expected.nan_to_num(7.5)), name


class _Stop(Exception):
    pass


def test_a_pass_resumed_from_its_checkpoint_equals_the_uninterrupted_pass(small_mobilenet, images):
    layers = [layer.name for layer in small_mobilenet.layers]
    whole = dataset_examples(small_mobilenet, layers, _batches(images), k=K)
    saved = []

    def stop_after_half(seen):
        if seen >= IMAGES // 2:
            raise _Stop

    with pytest.raises(_Stop):
        dataset_examples(
            small_mobilenet,
            layers,
            _batches(images),
            k=K,
            progress=stop_after_half,
            checkpoint=lambda state: saved.append(_round_trip(state)),
            checkpoint_every=BATCH * 2,
        )
    state = saved[-1]
    resumed = dataset_examples(
        small_mobilenet, layers, _batches(images, start=state["images"]), k=K, resume=state
    )

    assert [checkpoint["images"] for checkpoint in saved] == [8, 12]
    _assert_identical(_fields(resumed), _fields(whole))


def test_checkpoints_come_at_each_multiple_of_the_interval(small_mobilenet, images):
    saved = []

    dataset_examples(
        small_mobilenet,
        ["features.1"],
        _batches(images),
        k=K,
        checkpoint=lambda state: saved.append(state["images"]),
        checkpoint_every=10,
    )

    assert saved == [12, 20]


def test_a_state_of_other_layers_is_refused(small_mobilenet, images):
    saved = []
    dataset_examples(
        small_mobilenet,
        ["features.1"],
        _batches(images)[:1],
        k=K,
        checkpoint=saved.append,
        checkpoint_every=BATCH,
    )

    with pytest.raises(ValueError, match="another pass"):
        dataset_examples(
            small_mobilenet, ["features.2"], _batches(images, start=BATCH), k=K, resume=saved[0]
        )
