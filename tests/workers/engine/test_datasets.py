import numpy as np
import pytest
import torch
from PIL import Image

from workers.engine.datasets import batches, demo_dataset, folder_dataset
from workers.engine.errors import DatasetEmpty, DatasetMissing

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def _save(path, size, color, mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path)
    return path


def _loaded(dataset, batch_size=8, **options):
    """Every batch of the dataset, indices as lists."""
    return [
        (indices.tolist(), images) for indices, images in batches(dataset, batch_size, **options)
    ]


def _three_stripes(path):
    """A 30×10 image: red, blue and green 10 px squares from left to right."""
    pixels = np.zeros((10, 30, 3), dtype=np.uint8)
    pixels[:, :10], pixels[:, 10:20], pixels[:, 20:] = RED, BLUE, GREEN
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def test_folder_images_are_found_at_any_depth_in_path_order(tmp_path):
    for name in ["b.png", "a/z.JPG", "a/c.webp", "d.bmp", "e.jpeg"]:
        _save(tmp_path / name, (4, 4), RED)
    (tmp_path / "notes.txt").write_text("not an image")

    dataset = folder_dataset(tmp_path)

    assert dataset.names == ["a/c.webp", "a/z.JPG", "b.png", "d.bmp", "e.jpeg"]


def test_folder_image_is_its_centred_square_in_zero_to_one(tmp_path):
    _three_stripes(tmp_path / "stripes.png")

    [(_, images)] = _loaded(folder_dataset(tmp_path, size=10))

    expected = torch.zeros(1, 3, 10, 10)
    expected[:, 2] = 1.0
    assert torch.equal(images, expected)


def test_folder_image_is_resized_to_size(tmp_path):
    _save(tmp_path / "wide.png", (40, 20), RED)

    [(_, images)] = _loaded(folder_dataset(tmp_path, size=16))

    assert images.shape == (1, 3, 16, 16)
    assert images.dtype == torch.float32


def test_greyscale_image_becomes_rgb(tmp_path):
    _save(tmp_path / "grey.png", (8, 8), 51, mode="L")

    [(_, images)] = _loaded(folder_dataset(tmp_path, size=8))

    assert images.shape == (1, 3, 8, 8)
    assert torch.unique(images).tolist() == [0.20000000298023224]


def test_corrupt_file_is_skipped_and_reported(tmp_path):
    _save(tmp_path / "a.png", (8, 8), RED)
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg at all")
    _save(tmp_path / "c.png", (8, 8), BLUE)
    dataset = folder_dataset(tmp_path, size=8)

    loaded = _loaded(dataset)

    assert [indices for indices, _ in loaded] == [[0, 2]]
    assert loaded[0][1].shape == (2, 3, 8, 8)
    assert list(dataset.unreadable) == ["b.jpg"]


def test_truncated_file_is_skipped_and_reported(tmp_path):
    _save(tmp_path / "whole.png", (64, 64), RED)
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    dataset = folder_dataset(tmp_path, size=8)

    loaded = _loaded(dataset)

    assert [indices for indices, _ in loaded] == [[1]]
    assert list(dataset.unreadable) == ["cut.png"]


def test_folder_with_only_unreadable_images_is_empty(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG broken")

    with pytest.raises(DatasetEmpty):
        _loaded(folder_dataset(tmp_path))


def test_missing_folder_is_dataset_missing(tmp_path):
    with pytest.raises(DatasetMissing) as raised:
        folder_dataset(tmp_path / "absent")

    assert raised.value.code == "dataset_missing"


def test_folder_without_images_is_dataset_empty(tmp_path):
    (tmp_path / "readme.txt").write_text("no pictures here")

    with pytest.raises(DatasetEmpty) as raised:
        folder_dataset(tmp_path)

    assert raised.value.code == "dataset_empty"


def test_batches_cover_the_dataset_in_order(tmp_path):
    for name in "abcde":
        _save(tmp_path / f"{name}.png", (4, 4), GREEN)

    loaded = _loaded(folder_dataset(tmp_path, size=4), batch_size=2)

    assert [indices for indices, _ in loaded] == [[0, 1], [2, 3], [4]]


def test_prefetching_yields_the_same_batches(tmp_path):
    for name, color in zip("abcde", [RED, GREEN, BLUE, RED, GREEN], strict=True):
        _save(tmp_path / f"{name}.png", (6, 9), color)
    dataset = folder_dataset(tmp_path, size=4)

    ahead = _loaded(dataset, batch_size=2, prefetch=True)
    inline = _loaded(dataset, batch_size=2, prefetch=False)

    assert [indices for indices, _ in ahead] == [indices for indices, _ in inline]
    assert all(torch.equal(a, b) for (_, a), (_, b) in zip(ahead, inline, strict=True))


def test_batch_size_below_one_is_refused(tmp_path):
    _save(tmp_path / "a.png", (4, 4), RED)

    with pytest.raises(ValueError, match="batch_size"):
        _loaded(folder_dataset(tmp_path), batch_size=0)


def test_demo_dataset_has_at_least_100_uniquely_named_images():
    dataset = demo_dataset()

    assert len(dataset) >= 100
    assert len(set(dataset.names)) == len(dataset)


def test_demo_dataset_names_its_crops_by_photo_scale_and_place():
    names = demo_dataset().names

    assert names[:3] == [
        "skimage/astronaut.png@s0:r0c0",
        "skimage/astronaut.png@s1:r0c0",
        "skimage/astronaut.png@s1:r0c1",
    ]
    assert "sklearn/china.jpg@s1:r2c4" in names


def test_demo_dataset_is_deterministic():
    first, second = demo_dataset(size=32), demo_dataset(size=32)
    chosen = range(0, len(first), 7)

    first_indices, first_images = first.load(chosen)
    second_indices, second_images = second.load(chosen)

    assert first.names == second.names
    assert torch.equal(first_indices, second_indices)
    assert torch.equal(first_images, second_images)


def test_demo_images_load_at_the_requested_size():
    dataset = demo_dataset(size=48)

    [(indices, images)] = _loaded(dataset, batch_size=len(dataset))

    assert indices == list(range(len(dataset)))
    assert images.shape == (len(dataset), 3, 48, 48)
    assert dataset.unreadable == {}


def test_demo_dataset_shows_every_crop_also_mirrored():
    names = demo_dataset().names

    assert "skimage/astronaut.png@s0:r0c0:m" in names
    assert sum(name.endswith(":m") for name in names) * 2 == len(names)


def test_demo_dataset_has_a_third_scale_of_crops_side_by_side():
    names = demo_dataset().names

    assert "sklearn/china.jpg@s2:r3c4" in names
    assert not any(name.startswith("skimage/text.png@s2") for name in names)


def test_a_mirrored_demo_crop_is_its_crop_flipped_left_to_right():
    dataset = demo_dataset(size=32)
    names = dataset.names
    plain = names.index("skimage/astronaut.png@s1:r0c1")

    _, images = dataset.load([plain, names.index("skimage/astronaut.png@s1:r0c1:m")])

    assert torch.equal(images[1], images[0].flip(-1))


def test_source_field_places_a_box_in_the_files_pixels():
    dataset = demo_dataset(size=32)
    names = dataset.names
    region = dataset.images[names.index("skimage/astronaut.png@s1:r0c1")].region

    path, box = dataset.source_field(names.index("skimage/astronaut.png@s1:r0c1"), (0, 8, 16, 24))

    scale = (region[2] - region[0]) / 32
    assert path.endswith("astronaut.png")
    assert box == (region[1], region[0] + 8 * scale, region[1] + 16 * scale, region[0] + 24 * scale)


def test_source_field_of_a_mirrored_crop_undoes_the_mirroring():
    dataset = demo_dataset(size=32)
    names = dataset.names

    plain = dataset.source_field(names.index("skimage/astronaut.png@s1:r0c1"), (0, 0, 4, 8))
    mirrored = dataset.source_field(names.index("skimage/astronaut.png@s1:r0c1:m"), (0, 24, 4, 32))

    assert plain == mirrored


def test_source_field_of_a_whole_file_is_the_box_under_the_images_name(tmp_path):
    _save(tmp_path / "a.png", (8, 8), RED)

    assert folder_dataset(tmp_path, size=8).source_field(0, (1, 2, 3, 4)) == ("a.png", (1, 2, 3, 4))


def test_images_in_class_subfolders_have_their_subfolder_as_class(tmp_path):
    _save(tmp_path / "dogs" / "a.png", (4, 4), RED)
    _save(tmp_path / "cats" / "deep" / "b.png", (4, 4), RED)
    _save(tmp_path / "cats" / "c.png", (4, 4), RED)

    dataset = folder_dataset(tmp_path)

    assert dataset.classes == ("cats", "dogs")
    assert dataset.class_numbers(torch.tensor([2, 0, 1])).tolist() == [1, 0, 0]


def test_a_folder_with_an_image_outside_any_subfolder_has_no_classes(tmp_path):
    _save(tmp_path / "dogs" / "a.png", (4, 4), RED)
    _save(tmp_path / "b.png", (4, 4), RED)

    assert folder_dataset(tmp_path).classes is None


def test_the_demo_dataset_has_no_classes():
    assert demo_dataset(size=8).classes is None
