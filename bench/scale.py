"""Workers that add up: one queue of dataset-examples jobs run by 1, 2, ... real Celery workers.

For each worker count the bench starts that many ``celery worker`` processes (the command of
``make run``'s worker: concurrency 1, late acks, prefetch 1; the first also runs the beat of
the lease sweep) on the configured PostgreSQL database (a throwaway one it creates and
migrates) and Redis broker, waits until every worker's heartbeat is in the database, then
requests ``--jobs`` dataset-examples jobs of ImageNet MobileNetV2 at once and times from the
request to the last job finished. The candidate is N workers, the baseline one worker, over
the same jobs (their rows and artifacts deleted between counts).

The jobs: each covers one layer (``--layer``, by default ``features.13``: three quarters of
the network's depth, 96 units: a forward through most of the network, then a real writing
phase of 386 artifacts) over a folder of ``--images`` ImageNet-like JPEGs (``make_dataset.py``, made
once in the temporary folder), registered under ``--jobs`` dataset names, so the jobs are
distinct (one job per dataset name) but equal in work. A job lasts many seconds, so a
worker's start (excluded: timing begins once it is ready) and its first network load
(included, once per worker) do not dominate.

Torch threads and decode processes per worker: by default the cores this process may use
(``os.sched_getaffinity``) divided among the workers (at least 1 each), so that 1 worker with
2 threads (the baseline) is compared with 2 workers of 1 thread each on 2 cores. A reference
run of 1 worker with 1 thread splits that ratio into what fewer threads per job cost or give
and what the second worker adds (``explanation`` in the JSON).

It checks that every job succeeded exactly once (one claim) and that the artifacts are
complete and unique: every unit's and the layer's expected artifacts, one row each, every
stored file present with the recorded SHA-256, no file shared by two rows, none left over; it
exits 1 when a check fails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/11 .venv/bin/python bench/scale.py --workers 1,2
"""

import argparse
import hashlib
import os
import shutil
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import measure

NETWORK = "mobilenet-v2"
ARCH = "mobilenet_v2"
TERMINAL = ("succeeded", "failed", "cancelled")
# What a dataset-examples job writes per unit and per layer (workers/renderers/dataset_examples.py).
UNIT_ARTIFACTS = (
    ("unit_image", "top"),
    ("unit_image", "bottom"),
    ("unit_json", ""),
    ("unit_json", "distribution"),
)
LAYER_ARTIFACTS = (("layer_sprite", ""), ("layer_index", ""))


def worker_counts(text):
    """``"1,2,4"`` as [1, 2, 4]: positive, distinct, ascending; 1 is added as the baseline."""
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"a comma-separated list of integers, got {text!r}"
        ) from error
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"worker counts must be at least 1, got {text!r}")
    return sorted({1, *counts})


def per_worker(setting, cores, workers):
    """Threads (or decode processes) per worker: ``setting``, or for 0 the cores shared out."""
    return setting or max(1, cores // workers)


def setups(counts, cores, *, threads=0, decode_workers=0):
    """The runs, in order: the baseline (one worker), a reference of one worker with the
    threads each worker of a larger count gets, where that differs from the baseline's (it
    splits a ratio into what threads and what workers give), then the larger counts."""

    def setup(role, workers, share):
        return {
            "role": role,
            "workers": workers,
            "torch_threads": per_worker(threads, cores, share),
            "decode_workers": per_worker(decode_workers, cores, share),
        }

    baseline = setup("baseline", 1, 1)
    candidates = [setup("candidate", count, count) for count in counts if count > 1]
    references = []
    for candidate in candidates:
        reference = {**candidate, "role": "reference", "workers": 1}
        shares = (reference["torch_threads"], reference["decode_workers"])
        known = [
            (known["torch_threads"], known["decode_workers"]) for known in (baseline, *references)
        ]
        if shares not in known:
            references.append(reference)
    return [baseline, *references, *candidates]


def expected_artifacts(layer, channels):
    """The (layer, unit, kind, variant) keys one dataset-examples job on ``layer`` writes."""
    keys = {(layer, None, kind, variant) for kind, variant in LAYER_ARTIFACTS}
    keys |= {
        (layer, unit, kind, variant) for unit in range(channels) for kind, variant in UNIT_ARTIFACTS
    }
    return keys


def artifact_problems(jobs, artifacts, stored):
    """What is wrong with a run's jobs and artifacts; an empty list when nothing is.

    jobs: ``{job id: {"status", "attempts", "expected": set of (layer, unit, kind, variant)}}``;
    artifacts: rows as dicts with ``job``, ``layer``, ``unit``, ``kind``, ``variant``,
    ``file`` and ``sha256``; stored: ``{file name: SHA-256 of its bytes}`` of every file the
    storage holds under the artifacts' folders.
    """
    problems = []
    for job_id, job in sorted(jobs.items()):
        if job["status"] != "succeeded":
            problems.append(f"job {job_id} is {job['status']}")
        if job["attempts"] != 1:
            problems.append(f"job {job_id} was claimed {job['attempts']} times, not once")
    found = {}
    for row in artifacts:
        key = (row["layer"], row["unit"], row["kind"], row["variant"])
        found.setdefault(row["job"], []).append(key)
        if row["job"] not in jobs:
            problems.append(f"artifact {row['file']} belongs to no job of this run")
    for job_id, job in sorted(jobs.items()):
        keys = Counter(found.get(job_id, []))
        duplicated = sorted((key for key, times in keys.items() if times > 1), key=str)
        missing = sorted(job["expected"] - set(keys), key=str)
        unexpected = sorted(set(keys) - job["expected"], key=str)
        for label, wrong in (
            ("duplicate", duplicated),
            ("missing", missing),
            ("unexpected", unexpected),
        ):
            if wrong:
                problems.append(f"job {job_id}: {len(wrong)} {label} artifacts, e.g. {wrong[0]}")
    files = Counter(row["file"] for row in artifacts)
    shared = sorted(name for name, times in files.items() if times > 1)
    if shared:
        problems.append(f"{len(shared)} files recorded by two artifacts, e.g. {shared[0]}")
    for row in artifacts:
        if row["file"] not in stored:
            problems.append(f"artifact file {row['file']} is not in the storage")
        elif stored[row["file"]] != row["sha256"]:
            problems.append(f"artifact file {row['file']} does not match its recorded SHA-256")
    left_over = sorted(set(stored) - set(files))
    if left_over:
        problems.append(f"{len(left_over)} stored files no artifact records, e.g. {left_over[0]}")
    return problems


def stored_files(media_root):
    """Every file under the storage's artifacts folder, by storage name, with its SHA-256."""
    folder = Path(media_root) / "artifacts"
    return {
        str(path.relative_to(media_root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in folder.rglob("*")
        if path.is_file()
    }


def check_services():
    """A clear refusal unless the database is PostgreSQL and the broker Redis: workers on
    several processes (or machines) share those, never the embedded defaults."""
    from django.conf import settings
    from django.db import connection

    wrong = []
    if connection.vendor != "postgresql":
        wrong.append(f"DATABASE_URL must name PostgreSQL (it is {connection.vendor})")
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        scheme = settings.CELERY_BROKER_URL.split("://")[0]
        wrong.append(f"CELERY_BROKER_URL must be Redis (it is {scheme}://)")
    if wrong:
        raise SystemExit("bench/scale.py: " + "; ".join(wrong))


def purge_queues():
    from server.celery import app

    with app.connection_for_write() as broker:
        for queue in ("gpu", "default"):
            broker.default_channel.queue_purge(queue)


def prepare(args, var_dir):
    """The network and the datasets (one folder, ``--jobs`` names); returns the folder."""
    from make_dataset import make_dataset

    from workers.services.datasets import dataset_register
    from workers.services.networks import network_register

    folder = Path(var_dir) / "images"
    measure.log(f"scale: writing {args.images} JPEGs")
    make_dataset(folder, images=args.images, seed=0)
    network_register(name=NETWORK, arch=ARCH, bundled_weights=True)
    for number in range(args.jobs):
        dataset_register(name=f"scale-{number:02d}", path=folder)
    return folder


def start_workers(setup, args, var_dir, prefix):
    """The setup's workers, named ``<prefix><number>@<host>``; returns their processes."""
    from django.conf import settings

    env = {
        "DATABASE_URL": measure.throwaway_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "ATLAS_VAR_DIR": var_dir,
        "ATLAS_DEVICE": "cpu",
        "ATLAS_TORCH_THREADS": str(setup["torch_threads"]),
        "ATLAS_DECODE_WORKERS": str(setup["decode_workers"]),
        "ATLAS_DATASET_BATCH_SIZE": str(args.batch),
        "ATLAS_HEARTBEAT_SECONDS": "1",
        "DEBUG": "false",
    }
    processes = []
    for number in range(setup["workers"]):
        processes.append(
            measure.start_celery_worker(
                hostname=f"{prefix}{number}@%h",
                env=env,
                log_path=Path(var_dir) / f"worker-{prefix}{number}.log",
                beat_schedule=Path(var_dir) / f"beat-{prefix}" if number == 0 else None,
            )
        )
    return processes


def wait_until(condition, processes, var_dir, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        for process in processes:
            if process.poll() is not None:
                logs = sorted(Path(var_dir).glob("worker-*.log"))
                tail = "".join(path.read_text(errors="replace")[-3000:] for path in logs)
                raise SystemExit(f"a worker exited while waiting for {what}:\n{tail}")
        time.sleep(0.2)
    raise SystemExit(f"timed out after {timeout} s waiting for {what}")


def run_jobs(args, network):
    """Request every job at once; returns the jobs' ids."""
    from workers.services.jobs import job_request

    ids = []
    for number in range(args.jobs):
        job, created = job_request(
            network=network,
            kind="dataset_examples",
            layer_name=args.layer,
            params={"dataset": f"scale-{number:02d}", "k": args.k},
            actor=None,
        )
        if not created:
            raise SystemExit(f"job {job.pk} of an earlier worker count was reused")
        ids.append(job.pk)
    return ids


def one_setup(setup, args, var_dir, prefix):
    """Run the queue with the setup's workers; returns (result, problems)."""
    from django.conf import settings

    from workers.models import Artifact, Job, Network, WorkerHeartbeat

    purge_queues()
    network = Network.objects.get(name=NETWORK)
    load_before = os.getloadavg()
    count = setup["workers"]
    processes = start_workers(setup, args, var_dir, prefix)
    try:
        wait_until(
            lambda: WorkerHeartbeat.objects.filter(hostname__startswith=prefix).count() == count,
            processes,
            var_dir,
            args.timeout,
            f"{count} workers to start",
        )
        measure.log(f"scale: {count} workers ready; {args.jobs} jobs")
        started = time.perf_counter()
        ids = run_jobs(args, network)
        wait_until(
            lambda: Job.objects.filter(pk__in=ids, status__in=TERMINAL).count() == len(ids),
            processes,
            var_dir,
            args.timeout,
            f"{len(ids)} jobs",
        )
        seconds = time.perf_counter() - started
    finally:
        for process in processes:
            measure.stop_process_group(process)
    jobs = list(Job.objects.filter(pk__in=ids).order_by("pk"))
    channels = network.layers.get(name=args.layer).channels
    expected = expected_artifacts(args.layer, channels)
    rows = [
        {
            "job": row["job_id"],
            "layer": row["layer__name"],
            "unit": row["unit__index"],
            "kind": row["kind"],
            "variant": row["variant"],
            "file": row["file"],
            "sha256": row["sha256"],
        }
        for row in Artifact.objects.filter(job_id__in=ids).values(
            "job_id", "layer__name", "unit__index", "kind", "variant", "file", "sha256"
        )
    ]
    problems = artifact_problems(
        {
            job.pk: {"status": job.status, "attempts": job.attempts, "expected": expected}
            for job in jobs
        },
        rows,
        stored_files(settings.MEDIA_ROOT),
    )
    succeeded = [job for job in jobs if job.status == "succeeded"]
    per_worker_jobs = {}
    for job in jobs:
        per_worker_jobs[job.worker] = per_worker_jobs.get(job.worker, 0) + 1
    result = {
        **setup,
        "seconds": round(seconds, 2),
        "jobs_per_second": round(len(ids) / seconds, 4),
        "images_per_second": round(len(ids) * args.images / seconds, 2),
        "jobs_per_worker": sorted(per_worker_jobs.values(), reverse=True),
        "job_seconds": seconds_summary(
            [(job.finished_at - job.started_at).total_seconds() for job in succeeded]
        ),
        "search_seconds": seconds_summary([job.timings["search_seconds"] for job in succeeded]),
        "write_seconds": seconds_summary([job.timings["write_seconds"] for job in succeeded]),
        "artifacts": len(rows),
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
    }
    Job.objects.filter(pk__in=ids).delete()
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "artifacts", ignore_errors=True)
    WorkerHeartbeat.objects.all().delete()
    return result, problems


def seconds_summary(samples):
    return measure.summary(samples, digits=2) if samples else None


def reference_for(candidate, results):
    """The one-worker run with the candidate's threads and decode processes per worker."""
    return next(
        result
        for result in results
        if result["workers"] == 1
        and (result["torch_threads"], result["decode_workers"])
        == (candidate["torch_threads"], candidate["decode_workers"])
    )


def explanation(results, cores):
    """Each count's ratio to the baseline, split into what threads and what workers give:
    ratio = (baseline / one worker with the candidate's threads) x (that / the candidate)."""
    baseline = results[0]
    lines = []
    for candidate in (result for result in results if result["role"] == "candidate"):
        reference = reference_for(candidate, results)
        workers, threads = candidate["workers"], candidate["torch_threads"]
        total = baseline["seconds"] / candidate["seconds"]
        by_threads = baseline["seconds"] / reference["seconds"]
        by_workers = reference["seconds"] / candidate["seconds"]
        ideal_workers = min(workers, max(1, cores // threads))
        line = (
            f"{workers} workers x {threads} torch thread(s) against 1 worker x "
            f"{baseline['torch_threads']} on {cores} usable core(s): {total:.2f}x the jobs/s"
        )
        if reference is not baseline:
            line += (
                f" = {by_threads:.2f} (1 worker on {threads} thread(s) instead of "
                f"{baseline['torch_threads']}; {threads / baseline['torch_threads']:.2f} if "
                "torch's threads scaled perfectly, above that where they wait on each other or "
                "on the job's single-threaded parts)"
                f" x {by_workers:.2f} ({workers} such workers instead of 1)"
            )
        line += (
            f". {workers} workers of {threads} thread(s) can give at most {ideal_workers}x over "
            f"one on free cores; a job took {reference['job_seconds']['median']:.1f} s alone and "
            f"{candidate['job_seconds']['median']:.1f} s beside the others (median), the cores "
            "they lost going to each other and to the machine's other processes (load average "
            f"{candidate['load_average_1min']['before']:.1f} before that run)."
        )
        if workers * threads > cores:
            line += f" {workers * threads} threads on {cores} cores: oversubscribed."
        lines.append(line)
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=worker_counts, default=[1, 2], help="counts (1,2)")
    parser.add_argument("--jobs", type=int, default=8, help="jobs per count (8)")
    parser.add_argument("--images", type=int, default=160, help="images per job (160)")
    parser.add_argument("--layer", default="features.13", help="MobileNetV2 layer (features.13)")
    parser.add_argument("--k", type=int, default=10, help="examples per unit (10)")
    parser.add_argument("--batch", type=int, default=32, help="images per forward (32)")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch threads per worker (0: cores / workers)"
    )
    parser.add_argument(
        "--decode-workers",
        type=int,
        default=0,
        help="decode processes per worker (0: cores / workers)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per wait (1800)")
    parser.add_argument(
        "--database-name", default=None, help="name of the throwaway database (atlas_bench_<pid>)"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.images < 1:
        parser.error("--jobs and --images must be at least 1")
    os.environ.pop("MEDIA_ROOT", None)
    var_dir = measure.setup_django()
    cores = len(os.sched_getaffinity(0))
    tag = f"scale{uuid.uuid4().hex[:6]}"
    runs = setups(args.workers, cores, threads=args.threads, decode_workers=args.decode_workers)
    results, problems = [], {}
    load_before = os.getloadavg()
    try:
        check_services()
        with measure.throwaway_database(args.database_name):
            prepare(args, var_dir)
            database = measure.database_facts()
            for number, setup in enumerate(runs):
                name = f"{setup['workers']}x{setup['torch_threads']}"
                measure.log(f"scale: {setup}")
                result, wrong = one_setup(setup, args, var_dir, f"{tag}-{number}-")
                results.append(result)
                if wrong:
                    problems[name] = wrong
                measure.log(f"scale: {result}")
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    baseline = results[0]
    candidates = [result for result in results if result["role"] == "candidate"]
    measure.emit(
        {
            "name": "scale",
            "measured": (
                f"{args.jobs} dataset-examples jobs ({ARCH} {args.layer}, {args.images} JPEGs "
                f"each, k={args.k}) from request to the last job finished, per count of Celery "
                "workers"
            ),
            "baseline": baseline,
            "references": [result for result in results if result["role"] == "reference"],
            "candidates": candidates,
            "ratio": {
                str(result["workers"]): measure.ratio(baseline["seconds"], result["seconds"])
                for result in candidates
            },
            "ratio_meaning": (
                "1-worker seconds / N-worker seconds (= the jobs/s and images/s ratio); "
                "references: one worker with the threads each of N workers gets"
            ),
            "cores": cores,
            "explanation": explanation(results, cores),
            "problems": problems,
            "broker": "redis",
            "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
            "machine": measure.machine_facts(database=database),
        }
    )
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
