"""Every image's spatial maximum of every unit of a dataset pass, kept on disk, not in memory.

The activation distributions need each image's value, not only the top-k: 4 bytes per unit
and image, 68 KB an image for MobileNetV2's 17,056 studied units, 1.4 GB for 20,000 images.
A pass appends each batch's values to a raw file in a temporary folder and the distributions
read them back in chunks, so that a pass holds O(batch + chunk) of them whatever the dataset.

The files are segments: raw float32, one row of every unit's value per image, in the order
seen. A segment is cut where a checkpoint is taken, so that the checkpoint stores the segment
file as it is (`cut`) and a resumed pass copies it back in (`add_segment`): one format.
"""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

# Images per chunk read back: 4.4 MB of float32 values for MobileNetV2's 17,056 units, ~50 MB
# with the histograms' float64 and int64 copies.
CHUNK_IMAGES = 64
_PREFIX = "atlas-maxima-"
_FOLDER = re.compile(rf"^{_PREFIX}(\d+)-")
_COPY_BYTES = 1 << 20


class MaximaSpool:
    """Per image, the spatial maximum of each of `units` units (float32), in the order seen,
    in a temporary folder of `parent` (the system's by default) until `close` removes it.

    Use it as a context manager, so that the folder goes whatever ends the pass (an error,
    a cancel). A folder left by a process that was killed is removed by the next spool made
    under the same parent (see `remove_abandoned`).
    """

    def __init__(
        self,
        units: int,
        *,
        parent: str | os.PathLike | None = None,
        chunk_images: int = CHUNK_IMAGES,
    ):
        if units < 1 or chunk_images < 1:
            raise ValueError(
                f"a spool needs at least one unit and one image a chunk; got {units} and "
                f"{chunk_images}."
            )
        remove_abandoned(parent)
        self.units = units
        self.chunk_images = chunk_images
        self.folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=parent))
        self.segments: list[Path] = []
        self.images = 0
        self._writing: BinaryIO | None = None

    def __enter__(self) -> "MaximaSpool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def _row_bytes(self) -> int:
        return self.units * 4

    def append(self, maxima: torch.Tensor) -> None:
        """Add one batch: `maxima` [units, B] float32, the batch's images in order."""
        if maxima.dtype != torch.float32 or maxima.dim() != 2 or maxima.shape[0] != self.units:
            raise ValueError(
                f"expected float32 maxima of shape [{self.units}, images]; got "
                f"{maxima.dtype} of shape {list(maxima.shape)}."
            )
        if self._writing is None:
            path = self.folder / f"segment-{len(self.segments):06d}.f32"
            self.segments.append(path)
            self._writing = open(path, "wb")  # noqa: SIM115 (closed by `cut` or `close`)
        # [B, units] rows; the pass's maxima are the transpose of a contiguous [B, units].
        rows = maxima.detach().cpu().T.contiguous().numpy()
        self._writing.write(rows.tobytes())
        self.images += maxima.shape[1]

    def cut(self) -> Path | None:
        """End the segment being written and return its file (None if nothing was added
        since the last cut); the next batch starts a new segment."""
        if self._writing is None:
            return None
        self._writing.close()
        self._writing = None
        return self.segments[-1]

    def add_segment(self, source: BinaryIO) -> None:
        """Copy a segment written by `cut` (e.g. read back from a checkpoint) in as the next
        one. Raises ValueError, leaving the spool as it was, if its size is not whole rows."""
        self.cut()
        path = self.folder / f"segment-{len(self.segments):06d}.f32"
        with open(path, "wb") as target:
            shutil.copyfileobj(source, target, _COPY_BYTES)
            size = target.tell()
        if size % self._row_bytes:
            path.unlink()
            raise ValueError(f"a segment of {size} bytes is not rows of {self.units} units.")
        self.segments.append(path)
        self.images += size // self._row_bytes

    def clear(self) -> None:
        """Drop every image (the folder stays)."""
        self.cut()
        for path in self.segments:
            path.unlink(missing_ok=True)
        self.segments = []
        self.images = 0

    def chunks(self) -> Iterator[torch.Tensor]:
        """The values in the order seen, `chunk_images` images at a time (less at the end of
        a segment): [units, n] float32."""
        self.flush()
        count = self.chunk_images * self.units
        for path in self.segments:
            with open(path, "rb") as handle:
                while True:
                    rows = np.fromfile(handle, dtype=np.float32, count=count)
                    if rows.size == 0:
                        break
                    yield torch.from_numpy(rows).view(-1, self.units).T

    def flush(self) -> None:
        """Make what was appended readable (`chunks` does it)."""
        if self._writing is not None:
            self._writing.flush()

    def close(self) -> None:
        """Remove the folder and everything in it."""
        if self._writing is not None:
            self._writing.close()
            self._writing = None
        shutil.rmtree(self.folder, ignore_errors=True)


def remove_abandoned(parent: str | os.PathLike | None = None) -> list[Path]:
    """Remove the spool folders under `parent` (default: the system's temporary folder) of
    processes that no longer run (a worker killed mid-pass); returns them."""
    base = Path(parent if parent is not None else tempfile.gettempdir())
    removed = []
    for folder in base.glob(f"{_PREFIX}*"):
        match = _FOLDER.match(folder.name)
        if match is None or not folder.is_dir() or _running(int(match[1])):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
