"""glibc's malloc told to keep freed memory, so that CPU work stops paying for page faults.

A render step on CPU allocates and frees tens of megabytes of activation maps, and a
dataset-examples batch hundreds (MobileNetV2 at 224 px, batch 32: maps of up to 154 MB). By
default glibc serves large blocks with fresh mmaps and trims the heap when its top is free,
so every step or batch asks the kernel again for zeroed pages: thousands of page faults per
render step at a batch of 8 (about a tenth of a step's time on MobileNetV2), and 2.6 million
per four dataset batches, most of a bare forward's time then going to the kernel (measured
in bench/DATASET_EXAMPLES.md). With both thresholds raised, freed blocks are reused.
PyTorch's CPU tuning guide recommends an allocator that reuses memory (jemalloc, TCMalloc)
for the same reason; this gets most of that without changing how workers start.

Process-wide and permanent: the process keeps its peak heap. Meant for engine workers, and
called by the engine's CPU entry points (`render_units`, `dataset_examples`).
"""

import ctypes
import ctypes.util
import functools

# mallopt parameters from glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
# Blocks below this come from the heap, and the heap is not trimmed while less is free.
KEEP_BYTES = 1 << 30


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    libc = ctypes.CDLL(name)
    if not hasattr(libc, "mallopt"):
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, KEEP_BYTES)
    )
