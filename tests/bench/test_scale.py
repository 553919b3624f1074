"""bench/scale.py's checks on synthetic runs: a complete run passes; a duplicate, a missing or
an altered artifact, a stray file and a job run twice are each reported. No worker starts."""

import argparse
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def scale():
    sys.path.insert(0, str(BENCH))
    try:
        import scale

        yield scale
    finally:
        sys.path.remove(str(BENCH))


LAYER = "features.13"


def complete_run(scale, jobs=(1, 2), channels=3):
    """Two succeeded jobs with every expected artifact, each file stored with its hash."""
    expected = scale.expected_artifacts(LAYER, channels)
    job_rows = {job: {"status": "succeeded", "attempts": 1, "expected": expected} for job in jobs}
    artifacts, stored = [], {}
    for job in jobs:
        for layer, unit, kind, variant in sorted(expected, key=str):
            name = f"artifacts/{job}/{unit}-{kind}-{variant}"
            digest = f"sha-{name}"
            artifacts.append(
                {
                    "job": job,
                    "layer": layer,
                    "unit": unit,
                    "kind": kind,
                    "variant": variant,
                    "file": name,
                    "sha256": digest,
                }
            )
            stored[name] = digest
    return job_rows, artifacts, stored


def test_a_complete_run_has_no_problems(scale):
    jobs, artifacts, stored = complete_run(scale)

    assert scale.artifact_problems(jobs, artifacts, stored) == []
    assert len(artifacts) == 2 * (2 + 4 * 3)


def test_a_duplicate_artifact_is_reported(scale):
    jobs, artifacts, stored = complete_run(scale)
    artifacts.append({**artifacts[5], "file": "artifacts/1/copy"})
    stored["artifacts/1/copy"] = artifacts[5]["sha256"]

    problems = scale.artifact_problems(jobs, artifacts, stored)

    assert len(problems) == 1
    assert problems[0].startswith("job 1: 1 duplicate artifacts")


def test_a_missing_artifact_is_reported(scale):
    jobs, artifacts, stored = complete_run(scale)
    gone = artifacts.pop(-1)
    del stored[gone["file"]]

    problems = scale.artifact_problems(jobs, artifacts, stored)

    assert problems == [
        f"job 2: 1 missing artifacts, e.g. {(LAYER, gone['unit'], gone['kind'], gone['variant'])}"
    ]


def test_a_file_missing_altered_or_shared_in_the_storage_is_reported(scale):
    jobs, artifacts, stored = complete_run(scale)
    del stored[artifacts[0]["file"]]
    stored[artifacts[1]["file"]] = "other bytes"
    orphan = artifacts[3]["file"]
    artifacts[3]["file"] = artifacts[2]["file"]

    problems = scale.artifact_problems(jobs, artifacts, stored)

    assert problems == [
        f"1 files recorded by two artifacts, e.g. {artifacts[2]['file']}",
        f"artifact file {artifacts[0]['file']} is not in the storage",
        f"artifact file {artifacts[1]['file']} does not match its recorded SHA-256",
        f"artifact file {artifacts[3]['file']} does not match its recorded SHA-256",
        f"1 stored files no artifact records, e.g. {orphan}",
    ]


def test_a_job_that_failed_or_ran_twice_is_reported(scale):
    jobs, artifacts, stored = complete_run(scale)
    jobs[1]["attempts"] = 2
    jobs[2]["status"] = "failed"

    problems = scale.artifact_problems(jobs, artifacts, stored)

    assert problems == ["job 1 was claimed 2 times, not once", "job 2 is failed"]


def test_worker_counts_always_include_one_worker_and_refuse_nonsense(scale):
    assert scale.worker_counts("4,2") == [1, 2, 4]
    with pytest.raises(argparse.ArgumentTypeError):
        scale.worker_counts("0,2")
    with pytest.raises(argparse.ArgumentTypeError):
        scale.worker_counts("two")


def test_the_cores_are_shared_out_and_a_one_worker_reference_splits_the_ratio(scale):
    runs = scale.setups([1, 2], 2)

    assert [(run["role"], run["workers"], run["torch_threads"]) for run in runs] == [
        ("baseline", 1, 2),
        ("reference", 1, 1),
        ("candidate", 2, 1),
    ]


def test_fixed_threads_need_no_reference_run(scale):
    runs = scale.setups([1, 2, 4], 2, threads=1, decode_workers=1)

    assert [(run["role"], run["workers"], run["torch_threads"]) for run in runs] == [
        ("baseline", 1, 1),
        ("candidate", 2, 1),
        ("candidate", 4, 1),
    ]
