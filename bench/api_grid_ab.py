"""The layer grid before and after a change, in one process on one database.

The grid's selector and view as they were at ``--before`` (a commit; default d472933, the last
one that counted comments and open hypotheses per unit with correlated subqueries) are taken
from git into a temporary folder and mounted under ``/old/``; the current code serves the
usual URL. On the seed of ``bench/api.py`` (full size), the health check, ``auth/me``, the grid
page before and after, and the whole layer before and after are requested in rotating order
for ``--rounds`` rounds, after checking that both versions answer the same JSON (links aside).
Prints one JSON object: p50/p95/mean per label, throughput as a ratio of health's, and the
before/after speed-up of the page in blocks of 20 rounds. See bench/API.md.
"""

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import api
import measure

ROOT = Path(__file__).resolve().parent.parent
URLS_MODULE = """
from django.urls import include, path

from old_grid_view import LayerGridView

urlpatterns = [
    path("old/projects/<slug:slug>/grid/<str:network>/<str:layer>/", LayerGridView.as_view()),
    path("", include("server.urls")),
]
"""
BLOCK = 20


def old_code(commit, folder):
    """The grid's selector and view at ``commit``, importable as top-level modules."""

    def show(path):
        return subprocess.run(
            ["git", "show", f"{commit}:{path}"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    (folder / "old_grid_selectors.py").write_text(show("annotations/selectors/grid.py"))
    view = show("annotations/api/views/grid.py").replace(
        "from annotations.selectors.grid import (", "from old_grid_selectors import ("
    )
    (folder / "old_grid_view.py").write_text(view)
    (folder / "grid_ab_urls.py").write_text(URLS_MODULE)
    sys.path.insert(0, str(folder))


def without_links(body):
    return {key: value for key, value in body.items() if key not in ("next", "previous")}


def measure_rounds(client, targets, rounds):
    samples = {label: [] for label in targets}
    labels = list(targets)
    for round_number in range(rounds):
        shift = round_number % len(labels)
        for label in labels[shift:] + labels[:shift]:
            started = time.perf_counter()
            client.get(targets[label])
            samples[label].append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples):
    health_mean = statistics.fmean(samples[api.HEALTH])
    result = {}
    for label, values in samples.items():
        result[label] = {
            "p50": round(statistics.median(values), 2),
            "p95": round(statistics.quantiles(values, n=20, method="inclusive")[18], 2),
            "mean": round(statistics.fmean(values), 2),
            "throughput_ratio": round(health_mean / statistics.fmean(values), 3),
        }
    before, after = samples["grid_before"], samples["grid_after"]
    result["grid_speedup_per_block"] = [
        round(statistics.fmean(before[i : i + BLOCK]) / statistics.fmean(after[i : i + BLOCK]), 2)
        for i in range(0, len(before), BLOCK)
    ]
    return result


def run(rounds):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    seed = api.Seed(api.FULL, random.Random(0)).run()
    urls = api.endpoints(seed)
    old = "/old" + urls["grid"].removeprefix("/api/v1")
    targets = {
        api.HEALTH: urls[api.HEALTH],
        api.AUTH_ME: urls[api.AUTH_ME],
        "grid_before": old,
        "grid_after": urls["grid"],
        "whole_layer_before": old + "?" + urls["grid_whole_layer"].partition("?")[2],
        "whole_layer_after": urls["grid_whole_layer"],
    }
    client = Client(headers={"Authorization": f"Token {seed.token}"})
    bodies, queries = {}, {}
    for label, url in targets.items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{label}: status {response.status_code}")
        bodies[label], queries[label] = response.json(), len(captured.captured_queries)
    for before, after in (
        ("grid_before", "grid_after"),
        ("whole_layer_before", "whole_layer_after"),
    ):
        if without_links(bodies[before]) != without_links(bodies[after]):
            raise SystemExit(f"{before} and {after} answer differently")
    for url in targets.values():
        for _ in range(api.WARM_UP_REQUESTS):
            client.get(url)
    load_before = os.getloadavg()
    samples = measure_rounds(client, targets, rounds)
    return {
        "name": "api_grid_before_after",
        "rounds": rounds,
        "queries": queries,
        "same_answers": True,
        "latency_ms": summary(samples),
        "load_average_start_end": [load_before, os.getloadavg()],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="d472933", help="commit of the old grid")
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="atlas-grid-ab-"))
    old_code(args.before, folder)
    var_dir = measure.setup_django()
    from django.test.utils import override_settings

    try:
        with measure.throwaway_database(), override_settings(ROOT_URLCONF="grid_ab_urls"):
            result = run(args.rounds)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
