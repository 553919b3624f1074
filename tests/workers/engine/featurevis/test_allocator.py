import subprocess
import sys
from pathlib import Path

from workers.engine.featurevis import render
from workers.engine.featurevis.allocator import keep_freed_memory

ROOT = Path(__file__).resolve().parents[4]
# In a fresh process: 64 MiB of float32 (above glibc's largest default mmap threshold, 32 MiB)
# allocated and freed a few times, then the page faults of allocating it once more.
FAULTS_ON_REALLOCATION = """
import resource, sys, torch
from workers.engine.featurevis.allocator import keep_freed_memory
if sys.argv[1] == "keep":
    keep_freed_memory()
for _ in range(4):
    block = torch.ones(16 << 20)
    del block
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


def test_rendering_on_cpu_keeps_freed_memory(tiny_network, monkeypatch):
    calls = []
    monkeypatch.setattr(render, "keep_freed_memory", lambda: calls.append(True))

    render.render_units(tiny_network, "first", [0], steps=1, size=16)

    assert calls == [True]
