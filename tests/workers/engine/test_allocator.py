import subprocess
import sys
from pathlib import Path

from workers.engine.allocator import keep_freed_memory

ROOT = Path(__file__).resolve().parents[3]
# In a fresh process: 64 MiB blocks of float32 (above glibc's largest default mmap threshold,
# 32 MiB) allocated in pairs and freed a few times, then the page faults of allocating one
# more. Pairs, because PyTorch asks for 64-byte aligned memory: glibc looks for a free chunk
# of the size plus the alignment, which one freed block of exactly the size never is, while
# two freed neighbours merge into one that is (a worker's many maps do the same).
FAULTS_ON_REALLOCATION = """
import resource, sys, torch
from workers.engine.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    keep_freed_memory()
for _ in range(4):
    first, second = torch.ones(16 << 20), torch.ones(16 << 20)
    del first, second
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
torch.ones(16 << 20)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
PAGES_IN_BLOCK = (16 << 20) * 4 // 4096


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
    assert faults_on_reallocation("default") >= PAGES_IN_BLOCK


def test_with_freed_memory_kept_a_freed_block_is_reused_without_page_faults():
    assert faults_on_reallocation("keep") < PAGES_IN_BLOCK // 10
