"""A deterministic folder of ImageNet-like JPEGs for benchmarks and large-pass tests.

Each image is a random crop of one of the natural photos bundled with scikit-image and
scikit-learn (the demo dataset's photos, nothing fetched), at an aspect ratio and size common
in ImageNet (500×375, 375×500, 500×333, 500×500, ...), maybe mirrored, with colour jitter
(brightness, contrast, saturation), saved as a JPEG of quality 90. Image ``i`` of seed ``s``
depends on (s, i) alone, so the folder is the same whatever the number of processes, and
growing N keeps the first images. The source photo is the image's class:
``<folder>/<photo>/<i:06d>.jpg`` (the ImageFolder layout ``folder_dataset`` reads).

    .venv/bin/python bench/make_dataset.py var/datasets/bench-20000 --images 20000

Never commit the output (write it under var/ or another ignored path).
"""

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from io import BytesIO
from pathlib import Path

import measure  # noqa: F401  (puts the repository root on sys.path)
import numpy as np
from PIL import Image, ImageEnhance, ImageOps

from workers.engine.datasets import DEMO_PHOTOS, _package_folder

# Colour photos first: the first `--classes` of them are the classes.
CLASS_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "motorcycle_left.png",
    "rocket.jpg",
    "china.jpg",
    "flower.jpg",
    "brick.png",
    "grass.png",
    "gravel.png",
    "retina.jpg",
    "ihc.png",
    "hubble_deep_field.jpg",
    "camera.png",
    "moon.png",
    "coins.png",
)
# (width, height) of common ImageNet images.
SIZES = (
    (500, 375),
    (375, 500),
    (500, 333),
    (333, 500),
    (500, 500),
    (500, 281),
    (640, 480),
    (480, 640),
)
QUALITY = 90

_sources: dict[str, Image.Image] = {}


def photo_paths() -> dict[str, Path]:
    """Photo file name to its path inside the installed packages."""
    paths = {}
    for package, parts, names in DEMO_PHOTOS:
        folder = _package_folder(package, parts)
        for name in names:
            paths[name] = folder / name
    return paths


def _source(path: Path) -> Image.Image:
    """The photo decoded once per process, as RGB."""
    key = str(path)
    if key not in _sources:
        with Image.open(path) as file:
            _sources[key] = ImageOps.exif_transpose(file).convert("RGB")
    return _sources[key]


def make_image(seed: int, index: int, photo: Path) -> bytes:
    """Image ``index`` of ``seed``: JPEG bytes of a jittered crop of ``photo``."""
    rng = np.random.default_rng([seed, index])
    width, height = SIZES[int(rng.integers(len(SIZES)))]
    source = _source(photo)
    # The largest crop of the target's aspect ratio, scaled by 0.35-1, placed at random.
    aspect = width / height
    full_w = min(source.width, round(source.height * aspect))
    full_h = min(source.height, round(full_w / aspect))
    scale = float(rng.uniform(0.35, 1.0))
    crop_w, crop_h = max(16, round(full_w * scale)), max(16, round(full_h * scale))
    left = int(rng.integers(0, source.width - crop_w + 1))
    top = int(rng.integers(0, source.height - crop_h + 1))
    image = source.resize(
        (width, height), Image.Resampling.BILINEAR, box=(left, top, left + crop_w, top + crop_h)
    )
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    brightness, contrast, saturation = rng.uniform(0.7, 1.3, size=3)
    image = ImageEnhance.Brightness(image).enhance(float(brightness))
    image = ImageEnhance.Contrast(image).enhance(float(contrast))
    image = ImageEnhance.Color(image).enhance(float(saturation))
    out = BytesIO()
    image.save(out, "JPEG", quality=QUALITY)
    return out.getvalue()


def _write_range(folder: str, seed: int, start: int, stop: int, classes: list[tuple[str, str]]):
    for index in range(start, stop):
        name, path = classes[index % len(classes)]
        target = Path(folder) / name / f"{index:06d}.jpg"
        target.write_bytes(make_image(seed, index, Path(path)))
    return stop - start


def make_dataset(folder, *, images, seed=0, classes=10, processes=None):
    """Write ``images`` JPEGs into ``folder`` (created); returns the seconds it took."""
    started = time.perf_counter()
    paths = photo_paths()
    chosen = [(Path(name).stem, str(paths[name])) for name in CLASS_PHOTOS[:classes]]
    if classes > len(CLASS_PHOTOS) or classes < 1:
        raise SystemExit(f"--classes must be 1-{len(CLASS_PHOTOS)}")
    folder = Path(folder)
    for name, _ in chosen:
        (folder / name).mkdir(parents=True, exist_ok=True)
    processes = processes or len(os.sched_getaffinity(0))
    step = 100
    with ProcessPoolExecutor(max_workers=processes) as pool:
        futures = [
            pool.submit(_write_range, str(folder), seed, start, min(start + step, images), chosen)
            for start in range(0, images, step)
        ]
        done = 0
        for future in futures:
            done += future.result()
            print(f"\r{done} of {images} images", end="", file=sys.stderr)
    print(file=sys.stderr)
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="where to write (created); e.g. var/datasets/bench")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--processes", type=int, default=None, help="default: usable cores")
    args = parser.parse_args(argv)
    seconds = make_dataset(
        args.folder,
        images=args.images,
        seed=args.seed,
        classes=args.classes,
        processes=args.processes,
    )
    print(f"{args.images} images in {seconds:.1f} s ({args.images / seconds:.0f}/s)")


if __name__ == "__main__":
    main()
