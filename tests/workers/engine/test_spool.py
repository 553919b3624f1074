"""Per-image maxima spooled to disk: the distributions and counts of a spooled pass equal those
of the pass that keeps them in memory, and the spool's files go when it closes (issue 21,
memory bounded by batch size and k)."""

import io
import os

import pytest
import torch

from workers.engine.dataset_examples import dataset_examples
from workers.engine.distributions import class_means, histograms
from workers.engine.spool import MaximaSpool, remove_abandoned

BATCH = 4
IMAGES = 26
K = 3
LAYERS = ["features.1", "features.3", "features.17"]
CLASSES = 3


@pytest.fixture
def images():
    generator = torch.Generator().manual_seed(0)
    pixels = torch.rand(IMAGES, 3, 64, 64, generator=generator)
    pixels[13] = 0  # every ReLU map flat: ties and units that never fire
    return pixels


def _batches(images, start=0):
    return [
        (torch.arange(first, min(first + BATCH, IMAGES)), images[first : first + BATCH])
        for first in range(start, IMAGES, BATCH)
    ]


def _classes(seen):
    return seen % CLASSES


def _joint(result, field):
    return torch.cat([getattr(layer, field) for layer in result.values()])


@pytest.fixture
def spool(tmp_path, small_mobilenet):
    units = sum(small_mobilenet.layer(name).channels for name in LAYERS)
    # Chunks of 5 images: the reads cross batch and segment ends.
    with MaximaSpool(units, parent=tmp_path, chunk_images=5) as spool:
        yield spool


def test_a_spooled_pass_gives_the_in_memory_distributions_exactly(small_mobilenet, images, spool):
    in_memory = dataset_examples(small_mobilenet, LAYERS, _batches(images), k=K)
    spooled = dataset_examples(small_mobilenet, LAYERS, _batches(images), k=K, spool=spool)
    maxima = _joint(in_memory, "maxima")
    seen = in_memory[LAYERS[0]].seen

    expected_spread, got_spread = histograms(maxima), histograms(spool)
    expected_means = class_means(maxima, _classes(seen), count=CLASSES)
    got_means = class_means(spool, _classes(spooled[LAYERS[0]].seen), count=CLASSES)

    assert spool.images == IMAGES
    assert torch.equal(torch.cat(list(spool.chunks()), dim=1), maxima)
    for got, expected in zip(got_spread, expected_spread, strict=True):
        assert torch.equal(got.nan_to_num(-1), expected.nan_to_num(-1))
    assert torch.equal(got_means.means, expected_means.means)
    assert torch.equal(got_means.counts, expected_means.counts)
    for name in LAYERS:
        assert spooled[name].maxima is None
        assert torch.equal(spooled[name].stats.fired, in_memory[name].stats.fired)
        assert torch.equal(spooled[name].top.values, in_memory[name].top.values)
        assert torch.equal(spool_columns(spool, spooled[name].units), in_memory[name].maxima)


def spool_columns(spool, units):
    return torch.cat([chunk[units] for chunk in spool.chunks()], dim=1)


class _Stop(Exception):
    pass


def _round_trip(state):
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def test_a_spooled_pass_resumed_from_its_segments_equals_the_uninterrupted_one(
    small_mobilenet, images, spool, tmp_path
):
    whole = dataset_examples(small_mobilenet, LAYERS, _batches(images), k=K)
    saved = []

    def checkpoint(state):
        with open(spool.cut(), "rb") as segment:
            saved.append((_round_trip(state), segment.read()))

    def stop_after_half(seen):
        if seen >= IMAGES // 2:
            raise _Stop

    with pytest.raises(_Stop):
        dataset_examples(
            small_mobilenet,
            LAYERS,
            _batches(images),
            k=K,
            progress=stop_after_half,
            checkpoint=checkpoint,
            checkpoint_every=BATCH * 2,
            spool=spool,
        )
    state = saved[-1][0]
    with MaximaSpool(spool.units, parent=tmp_path) as resumed_spool:
        for _, segment in saved:
            resumed_spool.add_segment(io.BytesIO(segment))
        resumed = dataset_examples(
            small_mobilenet,
            LAYERS,
            _batches(images, start=state["images"]),
            k=K,
            resume=state,
            spool=resumed_spool,
        )
        got = torch.cat(list(resumed_spool.chunks()), dim=1)

    assert [checkpoint["images"] for checkpoint, _ in saved] == [8, 16]
    assert "maxima" not in state
    assert torch.equal(got, _joint(whole, "maxima"))
    for name in LAYERS:
        assert torch.equal(resumed[name].stats.fired, whole[name].stats.fired)
        assert torch.equal(resumed[name].bottom.images, whole[name].bottom.images)
        assert torch.equal(resumed[name].seen, whole[name].seen)


def test_a_resume_whose_spool_lacks_the_states_images_is_refused(small_mobilenet, images, spool):
    saved = []
    dataset_examples(
        small_mobilenet,
        LAYERS,
        _batches(images)[:2],
        k=K,
        checkpoint=saved.append,
        checkpoint_every=BATCH * 2,
        spool=spool,
    )
    spool.clear()

    with pytest.raises(ValueError, match="spool holds 0 images"):
        dataset_examples(
            small_mobilenet,
            LAYERS,
            _batches(images, start=8),
            k=K,
            resume=saved[0],
            spool=spool,
        )


def test_a_spool_of_other_units_is_refused(small_mobilenet, images, tmp_path):
    with MaximaSpool(7, parent=tmp_path) as spool, pytest.raises(ValueError, match="7 units"):
        dataset_examples(small_mobilenet, LAYERS, _batches(images)[:1], k=K, spool=spool)


def test_closing_a_spool_removes_its_files(tmp_path):
    spool = MaximaSpool(2, parent=tmp_path)
    spool.append(torch.ones(2, 3))

    spool.close()

    assert list(tmp_path.iterdir()) == []


def test_a_spool_is_removed_when_the_pass_in_it_fails(tmp_path):
    with pytest.raises(RuntimeError), MaximaSpool(2, parent=tmp_path) as spool:
        spool.append(torch.ones(2, 3))
        raise RuntimeError("the pass failed")

    assert list(tmp_path.iterdir()) == []


def test_a_spool_takes_only_float32_rows_of_its_units(tmp_path):
    with MaximaSpool(2, parent=tmp_path) as spool:
        with pytest.raises(ValueError, match="float32"):
            spool.append(torch.ones(2, 3, dtype=torch.float64))
        with pytest.raises(ValueError, match=r"\[2, images\]"):
            spool.append(torch.ones(3, 2))

        assert spool.images == 0


def test_a_segment_of_partial_rows_is_refused_and_left_out(tmp_path):
    with MaximaSpool(2, parent=tmp_path) as spool:
        with pytest.raises(ValueError, match="not rows of 2 units"):
            spool.add_segment(io.BytesIO(b"\0" * 12))

        assert (spool.images, spool.segments, list(spool.folder.iterdir())) == (0, [], [])


def test_a_spool_left_by_a_dead_process_is_removed_and_a_live_ones_kept(tmp_path):
    dead = tmp_path / "atlas-maxima-999999999-abc"
    dead.mkdir()
    (dead / "segment-000000.f32").write_bytes(b"\0" * 8)
    live = tmp_path / f"atlas-maxima-{os.getpid()}-def"
    live.mkdir()

    assert remove_abandoned(tmp_path) == [dead]
    assert [path.name for path in tmp_path.iterdir()] == [live.name]
