"""The collaboration API on a realistic project: every request a page sends when it loads.

A project studies one network (InceptionV1's twelve main layers, their widths scaled to 10,000
units) with a taxonomy of 84 layer-scoped groups, 60% of the units assigned, 5,000 hypotheses
(a third still open, with units, reviews and proposals), 100,000 comments in threads (on units,
hypotheses and groups), two renders per layer with their artifacts, 20 circuits, the
reviewer's 2,000 notifications, and an event per change. Everything is seeded with
``bulk_create``, never through the API.

Then, as a reviewer with an API token, it measures the latency (p50, p95) and throughput of
each endpoint against ``GET /api/v1/health/`` in the same run: sequentially in process through
``django.test.Client``, and concurrently through gunicorn on 127.0.0.1 with a thread pool.
Every endpoint is judged on p95 <= 50 ms and throughput >= 0.5 of health's. Exits 1 when an
endpoint answers other than 200, a page holds other than the seeded number of results, or the
grid's query count changes with its page size; missed targets are reported, not failed. See
bench/API.md.
"""

import argparse
import gc
import itertools
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import measure
from api_seed import ANNOTATORS, FULL, GRID_LAYER, NETWORK, PROJECT, QUICK, REVIEWERS, Seed

WARM_UP_REQUESTS = 3
HEALTH = "health"
# The cheapest authenticated request (token lookup, the user's memberships): what every other
# endpoint pays before its own work, which the unauthenticated health check does not.
AUTH_ME = "auth_me"
TARGET_GRID_P95_MS = 50
TARGET_THROUGHPUT_RATIO = 0.5
# Rows read with a parameter of their own on every request, so that every read misses the
# grid's page cache (the key holds the whole URL) and makes, stores and sends the page: what
# a reader pays for the first read after a change. The other grid rows read the same page
# again and again, as several researchers viewing one layer do: cache hits, but for the
# first read and after each ATLAS_GRID_CACHE_SECONDS (the TTL).
MISSES = {"grid_uncached": "grid", "grid_whole_layer_uncached": "grid_whole_layer"}
_miss_numbers = itertools.count()


def request_url(label, url):
    """The URL to send for ``label``: ``url`` itself, or with a parameter never sent before
    for a row that must miss the grid's cache."""
    if label not in MISSES:
        return url
    return f"{url}{'&' if '?' in url else '?'}miss={next(_miss_numbers)}"


def page_targets(seed):
    """What the pages' requests are about: a unit in the middle of the grid's layer with
    comments, an open hypothesis with comments, a layer-scoped group, a circuit, a job."""
    from annotations.models import Comment, Hypothesis
    from workers.models import Job

    grid_layer = next(layer for layer in seed.layers if layer.name == GRID_LAYER)
    units = seed.units_by_layer[grid_layer.pk]
    commented = set(
        Comment.objects.filter(
            target_type="unit", target_id__in=[unit.pk for unit in units], parent__isnull=True
        ).values_list("target_id", flat=True)
    )
    unit = next(
        unit for unit in units[len(units) // 2 :] + units[: len(units) // 2] if unit.pk in commented
    )
    hypothesis_id = (
        Hypothesis.objects.filter(project=seed.project, status="open")
        .filter(
            pk__in=Comment.objects.filter(target_type="hypothesis", parent__isnull=True).values(
                "target_id"
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    return {
        "layer": grid_layer,
        "unit": unit,
        "hypothesis_id": hypothesis_id,
        "group": seed.groups_by_layer[grid_layer.pk][0],
        "circuit_id": seed.circuit_ids[0],
        "job_id": Job.objects.filter(layer=grid_layer)
        .order_by("pk")
        .values_list("pk", flat=True)[0],
    }


def endpoints(seed):
    """label -> URL of every request measured; the health endpoint is the baseline. Beyond the
    grid, each is a request a page sends when it loads (frontend/static/frontend/js/), with the
    page's own query parameters; the page is named in PAGE_OF."""
    t = page_targets(seed)
    layer, unit = t["layer"], t["unit"]
    project = f"/api/v1/projects/{PROJECT}/"
    grid = f"{project}grid/{NETWORK}/{GRID_LAYER}/"
    unit_path = f"/api/v1/networks/{NETWORK}/units/{GRID_LAYER}:{unit.index}/"
    return {
        HEALTH: "/api/v1/health/",
        AUTH_ME: "/api/v1/auth/me/",
        "grid": grid,
        "grid_whole_layer": f"{grid}?page_size={layer.channels}",
        "grid_uncached": grid,
        "grid_whole_layer_uncached": f"{grid}?page_size={layer.channels}",
        "unit_card": f"{unit_path}card/",
        "review_queue": f"{project}review-queue/",
        "activity_feed": f"{project}events/",
        # Every page (the header's badge).
        "notifications_unread_count": "/api/v1/notifications/unread-count/",
        # The project page.
        "project_notifications": "/api/v1/notifications/?unread=true&page_size=50",
        "project_circuits": f"{project}circuits/?page_size=100",
        "project_review_queue": f"{project}review-queue/?page_size=20",
        "project_open_hypotheses": f"{project}hypotheses/?status=open&page_size=20",
        "project_activity": f"{project}events/?page_size=15",
        # The grid page (and the unit page's group picker).
        "groups": f"{project}groups/?page_size=1000",
        # The unit page.
        "unit_detail": unit_path,
        "unit_hypotheses": f"{project}hypotheses/?unit={GRID_LAYER}:{unit.index}"
        f"&network={NETWORK}&page_size=50",
        "unit_history": f"{project}history/unit/{unit.pk}/?page_size=30",
        "unit_comments": f"{project}comments/?target_type=unit&target_id={unit.pk}&page_size=100",
        "unit_links": f"{project}units/{NETWORK}/{GRID_LAYER}:{unit.index}/links/",
        "layers": f"/api/v1/networks/{NETWORK}/layers/",
        "weights_jobs": f"/api/v1/jobs/?network={NETWORK}&kind=weights&status=succeeded"
        "&page_size=100",
        # The reviews page.
        "reviews_queue": f"{project}review-queue/?page_size=100",
        "reviews_open_hypotheses": f"{project}hypotheses/?status=open&page_size=100",
        # The hypothesis page.
        "hypothesis": f"{project}hypotheses/{t['hypothesis_id']}/",
        "hypothesis_comments": f"{project}comments/?target_type=hypothesis"
        f"&target_id={t['hypothesis_id']}&page_size=100",
        # The taxonomy page.
        "group_tree": f"{project}groups/tree/",
        "group": f"{project}groups/{t['group'].pk}/",
        "group_units": f"{project}groups/{t['group'].pk}/units/?page_size=500",
        # The jobs page.
        "jobs": f"/api/v1/jobs/?network={NETWORK}&page_size=50",
        "job": f"/api/v1/jobs/{t['job_id']}/",
        "datasets": "/api/v1/datasets/?page_size=200",
        # The circuit page.
        "circuit": f"{project}circuits/{t['circuit_id']}/",
        # The search box: a word in nearly every comment.
        "search": f"{project}search/?q=curve",
        # The settings page.
        "project": project,
        "members": f"{project}members/?page_size=500",
        "project_networks": f"{project}networks/?page_size=100",
        # The exports page (no release yet).
        "releases": f"{project}releases/?page_size=100",
    }


def expected_results(seed):
    """label -> how many results the page must hold (None: not checked)."""
    from annotations.models import Comment

    t = page_targets(seed)
    grid_layer = t["layer"]
    return {
        "grid": min(256, grid_layer.channels),
        "grid_whole_layer": grid_layer.channels,
        "grid_uncached": min(256, grid_layer.channels),
        "grid_whole_layer_uncached": grid_layer.channels,
        "review_queue": 50,
        "activity_feed": 50,
        "project_notifications": 50,
        "project_circuits": len(seed.circuit_ids),
        "project_review_queue": 20,
        "project_open_hypotheses": 20,
        "project_activity": 15,
        "groups": len(seed.groups),
        "unit_comments": Comment.objects.filter(
            target_type="unit", target_id=t["unit"].pk, parent__isnull=True
        ).count(),
        "reviews_queue": 100,
        "reviews_open_hypotheses": 100,
        "hypothesis_comments": Comment.objects.filter(
            target_type="hypothesis", target_id=t["hypothesis_id"], parent__isnull=True
        ).count(),
        "group_units": len([g for g in seed.group_of.values() if g == t["group"].pk]),
        "jobs": seed.counts["jobs"],
        "members": 1 + REVIEWERS + ANNOTATORS,
    }


def latency_summary(milliseconds):
    ordered = sorted(milliseconds)
    return {
        "p50": round(statistics.median(ordered), 3),
        "p95": round(statistics.quantiles(ordered, n=20, method="inclusive")[18], 3),
        "mean": round(statistics.fmean(ordered), 3),
        "min": round(ordered[0], 3),
        "max": round(ordered[-1], 3),
    }


def check_responses(client, urls):
    """Status, size, result count and SQL count of one request to each endpoint."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    checks = {}
    for label, url in urls.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(request_url(label, url))
        body = response.json()
        checks[label] = {
            "status": response.status_code,
            "response_bytes": len(response.content),
            "queries": len(captured.captured_queries),
            "results": len(body["results"])
            if isinstance(body, dict) and "results" in body
            else None,
        }
    return checks


class SqlTimer:
    """Adds up the seconds spent inside the database driver's execute. On PostgreSQL that
    includes sending every row to the client; SQLite computes rows while they are fetched,
    after execute returns, so there the sum says little and is not reported."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def sequential(client, urls, repeats):
    """Milliseconds per request and, of them, in SQL; one request at a time, endpoints in
    rotating order."""
    from django.db import connection

    for label, url in urls.items():
        for _ in range(WARM_UP_REQUESTS):
            client.get(request_url(label, url))
    total = {label: [] for label in urls}
    sql = {label: [] for label in urls}
    labels = list(urls)
    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        for round_number in range(repeats):
            shift = round_number % len(labels)
            for label in labels[shift:] + labels[:shift]:
                url = request_url(label, urls[label])
                timer.seconds = 0.0
                with measure.stopwatch(total[label]):
                    client.get(url)
                sql[label].append(timer.seconds)
    return {
        label: (measure.milliseconds(total[label]), measure.milliseconds(sql[label]))
        for label in urls
    }


def sequential_results(samples):
    from django.db import connection

    health_rps = 1000 / statistics.fmean(samples[HEALTH][0])
    results = {}
    for label, (total, sql) in samples.items():
        rps = 1000 / statistics.fmean(total)
        results[label] = {
            "latency_ms": latency_summary(total),
            "sql_ms": latency_summary(sql) if connection.vendor == "postgresql" else None,
            "throughput_rps": round(rps, 1),
            "throughput_ratio": round(rps / health_rps, 3),
        }
    return results


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(workers):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": measure.throwaway_database_url()}
    command = [sys.executable, "-m", "gunicorn", "server.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--log-level", "warning"]
    # stdout is for the JSON result only; gunicorn's warnings go to stderr.
    server = subprocess.Popen(command, cwd=measure.ROOT, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health/", timeout=5):  # noqa: S310
                return server, base
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 60 seconds")


def timed_get(base, label, url, token):
    url = base + request_url(label, url)
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
        answer.read()
        status = answer.status
    return (time.perf_counter() - started) * 1000, status


def concurrent(urls, token, *, requests, threads, workers, rounds=5):
    """Through gunicorn: per endpoint, ``requests`` GETs from ``threads`` threads at once, in
    ``rounds`` batches interleaved with the other endpoints'."""
    server, base = start_server(workers)
    try:
        samples = {label: [] for label in urls}
        wall = dict.fromkeys(urls, 0.0)
        statuses = {label: set() for label in urls}
        per_round = max(threads, requests // rounds)
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for label, url in urls.items():
                list(
                    pool.map(lambda _, x=label, u=url: timed_get(base, x, u, token), range(threads))
                )
            for _ in range(rounds):
                for label, url in urls.items():
                    started = time.perf_counter()
                    answers = list(
                        pool.map(
                            lambda _, x=label, u=url: timed_get(base, x, u, token),
                            range(per_round),
                        )
                    )
                    wall[label] += time.perf_counter() - started
                    samples[label] += [ms for ms, _ in answers]
                    statuses[label] |= {status for _, status in answers}
    finally:
        server.terminate()
        server.wait(timeout=30)
    health_rps = len(samples[HEALTH]) / wall[HEALTH]
    return {
        "server": f"gunicorn, {workers} sync workers, 127.0.0.1",
        "client_threads": threads,
        "requests_per_endpoint": per_round * rounds,
        "endpoints": {
            label: {
                "latency_ms": latency_summary(samples[label]),
                "throughput_rps": round(len(samples[label]) / wall[label], 1),
                "throughput_ratio": round(len(samples[label]) / wall[label] / health_rps, 3),
                "statuses": sorted(statuses[label]),
            }
            for label in urls
        },
    }


def targets(results):
    """Every endpoint a page needs, cache misses included: p95 at most 50 ms and throughput at
    least half of health's. ``auth_me`` is a reference, not judged (it is the floor every
    authenticated endpoint pays)."""
    judged = {label: value for label, value in results.items() if label not in (HEALTH, AUTH_ME)}
    verdicts = {
        label: {
            "p95_ms": value["latency_ms"]["p95"],
            "p95_met": value["latency_ms"]["p95"] <= TARGET_GRID_P95_MS,
            "throughput_ratio": value["throughput_ratio"],
            "throughput_met": value["throughput_ratio"] >= TARGET_THROUGHPUT_RATIO,
        }
        for label, value in judged.items()
    }
    return {
        "p95_ms_target": TARGET_GRID_P95_MS,
        "throughput_ratio_target": TARGET_THROUGHPUT_RATIO,
        "p95_missed": sorted(label for label, v in verdicts.items() if not v["p95_met"]),
        "throughput_missed": sorted(
            label for label, v in verdicts.items() if not v["throughput_met"]
        ),
        # Not a target: auth/me's own ratio, the ceiling of any authenticated request here.
        "auth_me_throughput_ratio": results[AUTH_ME]["throughput_ratio"],
        "endpoints": verdicts,
    }


def grid_count_problems(client, urls, seed):
    """Units of the whole-layer grid whose comment or open-hypothesis count differs from a
    recount of the rows themselves (the grid reads counts kept as rows change)."""
    from annotations.services.unit_counts import unit_counts_counted

    counted = unit_counts_counted(project_id=seed.project.pk)
    grid_layer = next(layer for layer in seed.layers if layer.name == GRID_LAYER)
    unit_ids = {unit.index: unit.pk for unit in seed.units_by_layer[grid_layer.pk]}
    zero = {"comments": 0, "open_hypotheses": 0}
    wrong = [
        row["address"]
        for row in client.get(urls["grid_whole_layer"]).json()["results"]
        if counted.get(unit_ids[row["index"]], zero)
        != {"comments": row["comments"], "open_hypotheses": row["open_hypotheses"]}
    ]
    return (
        [f"grid: counts differ from a recount for {len(wrong)} units: {wrong[:5]}"] if wrong else []
    )


def problems_of(checks, expected, concurrent_result):
    problems = [
        f"{label}: status {check['status']}"
        for label, check in checks.items()
        if check["status"] != 200
    ]
    problems += [
        f"{label}: {checks[label]['results']} results, expected {count}"
        for label, count in expected.items()
        if checks[label]["results"] != count
    ]
    if len({checks[label]["queries"] for label in ("grid", "grid_whole_layer", *MISSES)}) != 1:
        problems.append(
            "the grid's first reads run different numbers of queries: "
            + ", ".join(
                f"{label} {checks[label]['queries']}"
                for label in ("grid", "grid_whole_layer", *MISSES)
            )
        )
    if concurrent_result is not None:
        problems += [
            f"{label} through gunicorn: statuses {value['statuses']}"
            for label, value in concurrent_result["endpoints"].items()
            if value["statuses"] != [200]
        ]
    return problems


def run(sizes, repeats, threads, workers, concurrent_requests):
    from django.conf import settings
    from django.test import Client

    measure.log(f"api: seeding {sizes}")
    seed = Seed(sizes, random.Random(0)).run()
    measure.log(f"api: seeded in {seed.counts['seconds']} s; measuring")
    # The seeding left millions of objects alive in this process (a server holds none of
    # them); every full collection walked them, 48 pauses of 135-327 ms in one run, each
    # landing on whichever request set it off. Frozen, collections skip them.
    gc.collect()
    gc.freeze()
    urls = endpoints(seed)
    client = Client(headers={"Authorization": f"Token {seed.token}"})
    checks = check_responses(client, urls)
    # The page again, now from the grid's page cache (when it is on): fewer queries.
    checks["grid"]["queries_when_cached"] = check_responses(client, {"grid": urls["grid"]})["grid"][
        "queries"
    ]
    in_process = sequential_results(sequential(client, urls, repeats))
    for label, result in in_process.items():
        result.update(url=urls[label], **checks[label])
    concurrent_result = None
    if threads:
        measure.log(f"api: {threads} threads against gunicorn with {workers} workers")
        concurrent_result = concurrent(
            urls, seed.token, requests=concurrent_requests, threads=threads, workers=workers
        )
        concurrent_result["targets"] = targets(concurrent_result["endpoints"])
    in_process_targets = targets(in_process)
    health = in_process.pop(HEALTH)
    return {
        "name": "api_collaboration",
        "measured": "latency (p50, p95) and throughput of one GET as a reviewer with an API "
        "token: sequentially through django.test.Client, and concurrently through gunicorn",
        "units": "milliseconds per request; requests per second",
        "seed": seed.counts,
        "gc": "objects alive after seeding frozen (gc.freeze) before measuring",
        "grid_cache": {
            "seconds": settings.ATLAS_GRID_CACHE_SECONDS,
            "backend": settings.CACHES["default"]["BACKEND"],
            "rows": "grid and grid_whole_layer read one URL again and again (hits after the "
            "first read); grid_uncached and grid_whole_layer_uncached add a parameter never "
            "sent before to every request, so every read misses and stores the page",
        },
        "baseline": {"label": "GET /api/v1/health/", **health},
        "candidate": in_process,
        "ratio": {label: value["throughput_ratio"] for label, value in in_process.items()},
        "ratio_meaning": "candidate throughput / health throughput, sequential in process "
        "(1 would be as fast as the health endpoint)",
        "targets": in_process_targets,
        "concurrent": concurrent_result,
        "problems": problems_of(checks, expected_results(seed), concurrent_result)
        + grid_count_problems(client, urls, seed),
        "repeats": repeats,
        "machine": measure.machine_facts(
            database={
                **measure.database_facts(),
                "conn_max_age": settings.DATABASES["default"]["CONN_MAX_AGE"],
            }
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="requests per endpoint (200)")
    parser.add_argument(
        "--threads", type=int, help="client threads against gunicorn (4; --quick: 0, no server)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--concurrent-requests", type=int, default=400, help="per endpoint through gunicorn"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small seed and 10 requests each, a smoke test"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    repeats = 10 if args.quick else args.repeats
    threads = args.threads if args.threads is not None else (0 if args.quick else 4)
    if repeats < 2 or threads < 0:
        parser.error("--repeats must be at least 2 and --threads at least 0")

    var_dir = measure.setup_django()
    try:
        with measure.throwaway_database():
            result = run(sizes, repeats, threads, args.workers, args.concurrent_requests)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    measure.emit(result)
    for problem in result["problems"]:
        measure.log(f"api: {problem}")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
