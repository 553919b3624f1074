import subprocess
import sys
from pathlib import Path

from workers.engine.allocator import keep_freed_memory

ROOT = Path(__file__).resolve().parents[3]
# In a fresh process: four 64 MiB blocks of float32 (each above glibc's largest default mmap
# threshold, 32 MiB) allocated and freed a few times, then the page faults of allocating them
# once more. Several blocks, as a batch's maps are: with one block alone, whether glibc finds
# the freed space again for PyTorch's aligned request depends on where the small allocations
# in between land, and in a process that imports little it sometimes does not.
FAULTS_ON_REALLOCATION = """
import resource, sys, torch
from workers.engine.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    keep_freed_memory()
for _ in range(3):
    blocks = [torch.ones(16 << 20) for _ in range(4)]
    del blocks
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
blocks = [torch.ones(16 << 20) for _ in range(4)]
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
PAGES_IN_BLOCKS = 4 * (16 << 20) * 4 // 4096


def faults_on_reallocation(mode: str) -> int:
    completed = subprocess.run(
        [sys.executable, "-c", FAULTS_ON_REALLOCATION, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return int(completed.stdout)


def test_keep_freed_memory_applies_on_glibc():
    assert keep_freed_memory() is True


def test_by_default_a_freed_block_is_faulted_in_again():
    assert faults_on_reallocation("default") >= PAGES_IN_BLOCKS


def test_with_freed_memory_kept_a_freed_block_is_reused_without_page_faults():
    assert faults_on_reallocation("keep") < PAGES_IN_BLOCKS // 10
