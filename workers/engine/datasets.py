"""Image datasets for dataset examples: local folders of images and the bundled demo photos."""

import contextlib
import importlib.util
import math
import multiprocessing
import os
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from workers.engine.errors import DatasetEmpty, DatasetMissing

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp"})

# The natural photos that ship inside the scikit-image and scikit-learn wheels (nothing is
# fetched at run time). Left out from skimage/data: chessboard_GRAY, chessboard_RGB, color
# (a colour wheel), phantom and logo (synthetic), horse (a binary silhouette), microaneurysms
# (102 px) and motorcycle_right (a near copy of motorcycle_left).
DEMO_PHOTOS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "skimage",
        ("data",),
        (
            "astronaut.png",
            "brick.png",
            "camera.png",
            "cell.png",
            "chelsea.png",
            "clock_motion.png",
            "coffee.png",
            "coins.png",
            "grass.png",
            "gravel.png",
            "hubble_deep_field.jpg",
            "ihc.png",
            "moon.png",
            "motorcycle_left.png",
            "page.png",
            "retina.jpg",
            "rocket.jpg",
            "text.png",
        ),
    ),
    ("sklearn", ("datasets", "images"), ("china.jpg", "flower.jpg")),
)
DEMO_INSTALL = "pip install scikit-image==0.26.0 scikit-learn==1.9.1"
# The demo's square crops: (side as a fraction of a photo's shorter side, how many crops per
# side length along each axis). s0 is the largest square (several along a long photo,
# overlapping by half), s1 a grid of half that side overlapping by half, s2 a grid of a third
# side by side. More scales show each photo's textures and edges at more sizes, so fewer
# early units go unexcited.
DEMO_CROP_SCALES = ((1.0, 2), (0.5, 2), (1 / 3, 1))
# Smaller crops would be enlarged more than twice at 224 px, too blurred to teach anything:
# this drops s1 and s2 of text.png and page.png (shorter sides 172 and 191 px), and s2 of the
# photos under 336 px.
DEMO_MIN_CROP_SIDE = 112
# Every demo crop is also shown mirrored left to right (named with a trailing ":m"): the same
# photos hold as many edges and curves facing the other way.
DEMO_MIRRORED = True

# Decoders raise these for missing, truncated, corrupt or absurdly large files.
_UNREADABLE = (
    OSError,
    SyntaxError,
    ValueError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)
# Batches decoded ahead of the one being consumed.
_PREFETCH_BATCHES = 1

Region = tuple[int, int, int, int]


@dataclass(frozen=True)
class DatasetImage:
    """One dataset image: a square region of an image file, under a stable name."""

    name: str
    path: Path
    # (left, top, right, bottom) in the file's pixels; None takes the centred largest square.
    region: Region | None = None
    # Shown mirrored left to right.
    mirrored: bool = False
    # The image's class: its subfolder in a dataset laid out as ImageFolder (see
    # `folder_dataset`); None where the dataset has no classes.
    label: str | None = None


class ImageDataset:
    """Images loaded as [3, size, size] float tensors in [0, 1], each known by a stable name.

    Files that cannot be decoded are skipped when loaded; `unreadable` maps their names to why.
    """

    def __init__(self, images: Sequence[DatasetImage], *, size: int):
        if size < 1:
            raise ValueError(f"size must be at least 1 pixel; got {size}.")
        self.images = tuple(images)
        self.size = size
        self.unreadable: dict[str, str] = {}
        labels = {image.label for image in self.images}
        # The dataset's classes, sorted, when every image has one; else None.
        self.classes: tuple[str, ...] | None = (
            None if not self.images or None in labels else tuple(sorted(labels))
        )

    def __len__(self) -> int:
        return len(self.images)

    @property
    def names(self) -> list[str]:
        return [image.name for image in self.images]

    def class_numbers(self, indices: torch.Tensor) -> torch.Tensor:
        """The position in `classes` of each image of `indices` [N] (a dataset with classes)."""
        if self.classes is None:
            raise ValueError("this dataset's images have no classes.")
        number = {label: position for position, label in enumerate(self.classes)}
        return torch.tensor(
            [number[self.images[int(index)].label] for index in indices], dtype=torch.long
        )

    def source_field(self, index: int, box: Sequence[int]) -> tuple[str, tuple[float, ...]]:
        """Where `box` (top, left, bottom, right in the loaded image's pixels) of image `index`
        lies in what the image was cut from: (the file, the box in the file's pixels) for a
        region of a file, mirroring undone; (the image's name, the box) for a whole file."""
        image = self.images[index]
        top, left, bottom, right = box
        if image.mirrored:
            left, right = self.size - right, self.size - left
        if image.region is None:
            return image.name, (top, left, bottom, right)
        region_left, region_top, region_right, region_bottom = image.region
        scale_x = (region_right - region_left) / self.size
        scale_y = (region_bottom - region_top) / self.size
        return str(image.path), (
            region_top + top * scale_y,
            region_left + left * scale_x,
            region_top + bottom * scale_y,
            region_left + right * scale_x,
        )

    def load(self, indices: Iterable[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """The readable images among `indices`: their indices [B] and uint8 pixels [B, 3, s, s].

        Runs without torch's thread pool, so that it can decode beside a forward pass.
        """
        kept, pixels, unreadable = self.decode(indices)
        self.unreadable.update(unreadable)
        return torch.tensor(kept, dtype=torch.long), torch.from_numpy(pixels)

    def decode(self, indices: Iterable[int]) -> tuple[list[int], np.ndarray, dict[str, str]]:
        """`load` without torch and without touching the dataset: the readable indices, their
        pixels [B, 3, s, s] uint8 and {name: why} of the unreadable ones (for a decode
        process, whose results go back to the pass)."""
        kept, pixels, unreadable = [], [], {}
        # Demo crops of one photo sit side by side: decode each file once per run of them.
        decoded: tuple[Path | None, Image.Image | None] = (None, None)
        for index in indices:
            image = self.images[index]
            try:
                if decoded[0] != image.path:
                    # A whole file shown as its centred square may be decoded at a reduced
                    # size (JPEG's draft mode); a region is in the full file's pixels.
                    target = self.size if image.region is None else None
                    decoded = (None, None)
                    decoded = (image.path, _read_rgb(image.path, target))
                square = _square_pixels(decoded[1], image.region, self.size)
                pixels.append(square[:, ::-1] if image.mirrored else square)
            except _UNREADABLE as error:
                unreadable[image.name] = f"{type(error).__name__}: {error}"
                continue
            kept.append(index)
        stacked = np.stack(pixels) if pixels else np.empty((0, self.size, self.size, 3), np.uint8)
        return kept, np.ascontiguousarray(stacked.transpose(0, 3, 1, 2)), unreadable


def _read_rgb(path: Path, shorter_side: int | None = None) -> Image.Image:
    """The decoded file as upright RGB: EXIF rotation applied, greyscale expanded, alpha dropped.

    shorter_side: a JPEG is decoded at the smallest of its reduced scales (1/2, 1/4, 1/8,
    Pillow's `draft`) whose shorter side still has that many pixels: a fraction of the work,
    for an image about to be shrunk to that size. An image of more pixels than Pillow's
    MAX_IMAGE_PIXELS (a decompression bomb) is refused, as a corrupt file is.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(path) as file:
            if shorter_side is not None and file.format == "JPEG":
                width, height = file.size
                scale = shorter_side / max(min(width, height), 1)
                if scale < 1:
                    file.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            return ImageOps.exif_transpose(file).convert("RGB")


def centred_square(width: int, height: int) -> Region:
    """The largest square region in the middle of a width × height image."""
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def _square_pixels(photo: Image.Image, region: Region | None, size: int) -> np.ndarray:
    """The region (default: the centred square) resized to size × size, as H×W×3 uint8."""
    box = region or centred_square(*photo.size)
    return np.asarray(photo.resize((size, size), Image.Resampling.BILINEAR, box=box))


def _image_files(folder: Path) -> list[Path]:
    """Image files under the folder, at any depth, sorted by their path inside it."""
    files = [
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
    ]
    return sorted(files, key=lambda path: path.relative_to(folder).as_posix())


def folder_dataset(path: str | Path, *, size: int = 224) -> ImageDataset:
    """Every jpg/jpeg/png/bmp/webp under a folder, each shown as its centred square.

    Images are named by their path inside the folder. Where every image sits in a subfolder
    (the ImageFolder convention, `folder/<class>/.../image.jpg`), the top subfolder is its
    class (`DatasetImage.label`); an image directly in the folder means no classes.
    DatasetMissing if the folder is not there, DatasetEmpty if it holds no image file.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetMissing(f"There is no dataset folder at {folder}.")
    files = _image_files(folder)
    if not files:
        raise DatasetEmpty(
            f"{folder} holds no image file ({', '.join(sorted(IMAGE_SUFFIXES))}, at any depth)."
        )
    names = [file.relative_to(folder).as_posix() for file in files]
    classed = all("/" in name for name in names)
    return ImageDataset(
        [
            DatasetImage(name, file, label=name.split("/", 1)[0] if classed else None)
            for name, file in zip(names, files, strict=True)
        ],
        size=size,
    )


def _package_folder(package: str, parts: Sequence[str]) -> Path:
    """A data folder inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DatasetMissing(
            f"The demo dataset reads photos that ship with {package}, which is not installed; "
            f"run `{DEMO_INSTALL}`."
        )
    return Path(spec.submodule_search_locations[0]).joinpath(*parts)


def _starts(length: int, side: int, per_side: int) -> list[int]:
    """Evenly spaced offsets from 0 to length - side, neighbours at most side / per_side
    apart."""
    count = -(-per_side * (length - side) // side) + 1
    return [step * (length - side) // max(count - 1, 1) for step in range(count)]


def _photo_crops(source: str, path: Path) -> list[DatasetImage]:
    """The photo's grid of overlapping square crops at every demo scale, named by place,
    then (`DEMO_MIRRORED`) each of them mirrored."""
    if not path.is_file():
        raise DatasetMissing(
            f"{path.name} is missing from the installed {source}; run `{DEMO_INSTALL}`."
        )
    with Image.open(path) as file:
        width, height = file.size
    crops = []
    for scale_index, (scale, per_side) in enumerate(DEMO_CROP_SCALES):
        side = round(min(width, height) * scale)
        if side < DEMO_MIN_CROP_SIDE:
            continue
        for row, top in enumerate(_starts(height, side, per_side)):
            for column, left in enumerate(_starts(width, side, per_side)):
                crops.append(
                    DatasetImage(
                        f"{source}/{path.name}@s{scale_index}:r{row}c{column}",
                        path,
                        (left, top, left + side, top + side),
                    )
                )
    if DEMO_MIRRORED:
        crops += [
            DatasetImage(f"{crop.name}:m", path, crop.region, mirrored=True) for crop in crops
        ]
    return crops


def demo_dataset(*, size: int = 224) -> ImageDataset:
    """Square crops of the natural photos that ship with scikit-image and scikit-learn.

    Deterministic: the same crops, in the same order, under the same names (for example
    "skimage/astronaut.png@s1:r0c2", and mirrored "skimage/astronaut.png@s1:r0c2:m") on
    every call.
    """
    crops = []
    for package, parts, names in DEMO_PHOTOS:
        folder = _package_folder(package, parts)
        for name in names:
            crops.extend(_photo_crops(package, folder / name))
    return ImageDataset(crops, size=size)


def _decoded_ahead(
    load: Callable[[range], tuple[torch.Tensor, torch.Tensor]], chunks: Sequence[range]
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """load(chunk) for each chunk in order, the next ones decoding in a background thread."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dataset-decode") as pool:
        pending = deque()
        for chunk in chunks:
            pending.append(pool.submit(load, chunk))
            if len(pending) > _PREFETCH_BATCHES:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


# The dataset a decode process serves (set once per process by `_serve`).
_served: ImageDataset | None = None


def _serve(dataset: ImageDataset):
    global _served
    _served = dataset
    # The process decodes; torch's threads stay the pass's.
    torch.set_num_threads(1)


def _decode_served(chunk: range) -> tuple[list[int], np.ndarray, dict[str, str]]:
    return _served.decode(chunk)


def usable_cores() -> int:
    """The cores this process may run on (its affinity, e.g. a container's CPU set)."""
    return len(os.sched_getaffinity(0))


@contextlib.contextmanager
def _children_allowed() -> Iterator[None]:
    """Lets a daemonic process (a Celery prefork child, which runs the jobs) start its decode
    processes; multiprocessing refuses that by default. They end with the pass, or, if the
    process is killed, when they find its end of their queue closed."""
    config = multiprocessing.current_process()._config
    daemon = config.pop("daemon", None)
    try:
        yield
    finally:
        if daemon is not None:
            config["daemon"] = daemon


def _decoded_in_processes(
    dataset: ImageDataset, chunks: Sequence[range], workers: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """dataset.load(chunk) for each chunk in order, decoded by `workers` processes (forked,
    so that they share the dataset's list without pickling it), up to two chunks per process
    ahead of the one being consumed. Results come back in chunk order whatever the finishing
    order, so batches (and ties) are the same as decoding in one thread."""
    context = multiprocessing.get_context("fork")
    with _children_allowed():
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_serve, initargs=(dataset,)
        )
    try:
        pending = deque()
        ahead = 2 * workers
        for chunk in chunks:
            with _children_allowed():
                pending.append(pool.submit(_decode_served, chunk))
            if len(pending) > ahead:
                yield _gathered(dataset, pending.popleft().result())
        while pending:
            yield _gathered(dataset, pending.popleft().result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _gathered(dataset: ImageDataset, decoded) -> tuple[torch.Tensor, torch.Tensor]:
    kept, pixels, unreadable = decoded
    dataset.unreadable.update(unreadable)
    return torch.tensor(kept, dtype=torch.long), torch.from_numpy(pixels)


def batches(
    dataset: ImageDataset,
    batch_size: int,
    *,
    prefetch: bool = True,
    start: int = 0,
    readable: int = 0,
    workers: int = 0,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The dataset in order as (indices [B], images [B, 3, size, size] in [0, 1]) batches.

    Unreadable images are left out (see `dataset.unreadable`), so a batch may be short.
    workers: decode in that many processes (see `_decoded_in_processes`); 0: in this one,
    with prefetch: the next batch in a background thread while the caller uses this one.
    start: the first image, a multiple of batch_size (a pass resumed from a checkpoint: the
    batches are those of the whole pass from there on); readable: how many readable images
    came before it. DatasetEmpty once the pass ends without a single readable image.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}.")
    if start % batch_size:
        raise ValueError(f"start must be a multiple of batch_size; got {start}.")
    if workers < 0:
        raise ValueError(f"workers must be 0 or more; got {workers}.")
    chunks = [
        range(first, min(first + batch_size, len(dataset)))
        for first in range(start, len(dataset), batch_size)
    ]
    if workers:
        loaded = _decoded_in_processes(dataset, chunks, workers)
    elif prefetch:
        loaded = _decoded_ahead(dataset.load, chunks)
    else:
        loaded = map(dataset.load, chunks)
    for indices, pixels in loaded:
        readable += len(indices)
        if len(indices):
            yield indices, pixels.float().div_(255)
    if not readable:
        raise DatasetEmpty(f"None of the {len(dataset)} images of the dataset could be read.")
