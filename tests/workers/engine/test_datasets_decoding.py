"""Decoding a dataset pass in several processes, JPEGs at a reduced scale, bad files skipped
(issue 21, decoding that scales with cores)."""

import numpy as np
import pytest
import torch
from PIL import Image

from workers.engine import datasets
from workers.engine.datasets import batches, folder_dataset


def _photo(path, width=96, height=80, seed=0, format=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format=format)
    return path


@pytest.fixture
def folder(tmp_path):
    """Ten readable images, a corrupt file and a truncated JPEG, in two class folders."""
    for number in range(10):
        _photo(tmp_path / f"class{number % 2}" / f"{number:02d}.png", seed=number)
    (tmp_path / "class0" / "03b.jpg").write_bytes(b"not a jpeg at all")
    whole = _photo(tmp_path / "whole.jpg", format="JPEG").read_bytes()
    (tmp_path / "whole.jpg").unlink()
    (tmp_path / "class1" / "05b.jpg").write_bytes(whole[: len(whole) // 2])
    return tmp_path


def _all(dataset, **options):
    return [(indices.tolist(), images) for indices, images in batches(dataset, 3, **options)]


def test_decode_processes_give_the_batches_of_one_thread(folder):
    in_thread = _all(folder_dataset(folder, size=16))

    in_processes = _all(folder_dataset(folder, size=16), workers=2)

    assert [indices for indices, _ in in_processes] == [indices for indices, _ in in_thread]
    assert all(
        torch.equal(got, expected)
        for (_, got), (_, expected) in zip(in_processes, in_thread, strict=True)
    )


def test_corrupt_and_truncated_files_are_skipped_and_counted_by_decode_processes(folder):
    dataset = folder_dataset(folder, size=16)

    seen = [index for indices, _ in _all(dataset, workers=2) for index in indices]

    assert sorted(dataset.unreadable) == ["class0/03b.jpg", "class1/05b.jpg"]
    assert len(seen) == 10
    assert [dataset.names[index] for index in seen if "b." in dataset.names[index]] == []


def test_an_image_of_more_pixels_than_allowed_is_skipped_as_a_decompression_bomb(
    tmp_path, monkeypatch
):
    _photo(tmp_path / "small.png", width=20, height=20)
    _photo(tmp_path / "huge.png", width=200, height=100)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    dataset = folder_dataset(tmp_path, size=16)

    seen = [index for indices, _ in _all(dataset, workers=1) for index in indices]

    assert [dataset.names[index] for index in seen] == ["small.png"]
    assert list(dataset.unreadable) == ["huge.png"]
    assert "DecompressionBomb" in dataset.unreadable["huge.png"]


def test_a_large_jpeg_is_decoded_at_the_smallest_scale_that_keeps_the_size(tmp_path):
    path = _photo(tmp_path / "big.jpg", width=1000, height=800, format="JPEG")

    assert datasets._read_rgb(path, 100).size == (125, 100)


def test_a_jpeg_smaller_than_twice_the_size_is_decoded_whole(tmp_path):
    path = _photo(tmp_path / "big.jpg", width=300, height=200, format="JPEG")

    assert datasets._read_rgb(path, 150).size == (300, 200)


def test_a_png_is_decoded_whole(tmp_path):
    path = _photo(tmp_path / "big.png", width=1000, height=800)

    assert datasets._read_rgb(path, 100).size == (1000, 800)


def test_a_negative_number_of_decode_processes_is_refused(folder):
    with pytest.raises(ValueError, match="workers"):
        next(batches(folder_dataset(folder, size=16), 3, workers=-1))


def test_the_decode_processes_may_start_inside_a_daemonic_process(folder, monkeypatch):
    """A Celery prefork child is daemonic; its pass still decodes in processes."""
    config = datasets.multiprocessing.current_process()._config
    monkeypatch.setitem(config, "daemon", True)

    loaded = _all(folder_dataset(folder, size=16), workers=2)

    assert len(loaded) == 4
    assert config["daemon"] is True
