"""Cold page loads in a real browser: the 480-unit grid, a unit card, the jobs page, a circuit.

Seeds a throwaway database (an InceptionV1-shaped network with three layers, mixed3b's 480
units with a rendered sprite sheet written by the workers' own sprite code, one unit with its
feature visualizations, a 12-unit circuit, a dozen jobs), serves the app through gunicorn on
127.0.0.1 (DEBUG off, static files through WhiteNoise as in production), and loads each page
in Debian's chromium driven by Playwright, each load in a new browser context: no HTTP cache,
no cookies but a signed-in session cookie.

One sample is one navigation; per page it records, in ms from the navigation's start:
``interactive`` (the page's own ready signal: its ``data-ready`` attribute set to "true" once
its data is rendered, caught by a MutationObserver installed before any page script runs),
``dom_content_loaded`` (DOMContentLoaded's end) and ``load`` (the load event's end). The
first load of each page (server-side cold: imports, file lookups) is reported apart and not
counted. A baseline in the same run, the sign-in page (the same template, stylesheet and shell
script, no data), is timed to its load event; each page's ratio to it is reported. Exits 1
when a page does not get ready or shows other than what was seeded; missed
targets are reported, not failed. See bench/PAGES.md.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import measure

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}
PROJECT = "circuits"
NETWORK = "inceptionv1"
GRID_LAYER = "mixed3b"
CARD_UNIT = f"{GRID_LAYER}:379"
# (name, order, channels): mixed3b is the grid's layer; the circuit spans all three.
LAYERS = [("conv2d2", 2, 192), ("mixed3a", 3, 256), (GRID_LAYER, 4, 480)]
CIRCUIT_UNITS = {"conv2d2": [21, 40, 62, 87], "mixed3a": [12, 31, 47, 85],
                 GRID_LAYER: [7, 51, 379, 400]}  # fmt: skip
TILE_PIXELS = 64
# Jobs on the jobs page: the four renders above, seven finished ones and one running.
JOBS = 12
TIMED = ("interactive", "dom_content_loaded", "load")
TARGETS_MS = {"grid": 1000, "unit_card": 500, "jobs": 500}

# Installed in every document before its own scripts: the time (performance.now(), ms since
# the navigation started) at which the page's own element (READY_ELEMENT) first got
# data-ready="true", or a flag when it got "failed" (the page gave up on its data). Parts of
# a page (a picker, an evidence list) have ready signals of their own; they are not the page's.
READY_OBSERVER = """
(() => {
  const element = READY_ELEMENT;
  window.__benchReady = null;
  window.__benchFailed = false;
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (!change.target.matches(element)) continue;
      const value = change.target.dataset.ready;
      if (value === "true" && window.__benchReady === null) window.__benchReady = performance.now();
      if (value === "failed") window.__benchFailed = true;
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-ready"] });
})();
"""
WATERFALL = """() => performance.getEntriesByType("resource").map((entry) => ({
  path: new URL(entry.name).pathname + new URL(entry.name).search,
  start: Math.round(entry.startTime),
  end: Math.round(entry.responseEnd),
}))"""
TIMINGS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  return {
    interactive: window.__benchReady,
    dom_content_loaded: nav.domContentLoadedEventEnd,
    load: nav.loadEventEnd,
    failed: window.__benchFailed,
    requests_before_interactive: performance.getEntriesByType("resource")
      .filter((entry) => entry.startTime <= (window.__benchReady ?? Infinity)).length,
  };
}"""


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="cold loads per page (default 7)")
    parser.add_argument("--quick", action="store_true", help="3 loads per page: a smoke run")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per process (default 4)")
    parser.add_argument(
        "--waterfall",
        action="store_true",
        help="print each page's requests of its last load (start and end, ms) on stderr",
    )
    parser.add_argument(
        "--grid-cache-seconds",
        type=int,
        default=0,
        help="the server's ATLAS_GRID_CACHE_SECONDS (default 0: every grid load builds its "
        "page, as the first reader after a change does)",
    )
    return parser.parse_args()


# --- seed -----------------------------------------------------------------------------------


def pattern_tile(index, size):
    """A stand-in for a feature visualization: an oriented, coloured grating per unit (the same
    kind of picture the browser tests use), so the sprite compresses like a real one."""
    import numpy as np

    rng = np.random.default_rng(index)
    y, x = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, np.pi)
    frequency = rng.uniform(2, 9)
    phase = rng.uniform(0, 6)
    wave = np.sin(2 * np.pi * frequency * (x * np.cos(angle) + y * np.sin(angle)) + phase)
    blob = np.exp(-(((x - rng.uniform(0.2, 0.8)) ** 2) + (y - rng.uniform(0.2, 0.8)) ** 2) * 6)
    base, other = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    mix = ((wave * blob + 1) / 2)[..., None]
    return (base * mix + other * (1 - mix)).clip(0, 255).astype(np.uint8)


def new_job(layer, number, **fields):
    from workers.models import Job

    defaults = {
        "kind": Job.Kind.FEATURE_VISUALIZATION,
        "status": Job.Status.SUCCEEDED,
        "progress": 1.0,
        "params": {"objective": "channel", "steps": 64, "thumbnail": TILE_PIXELS},
        "params_hash": f"{number:064x}",
        "request_hash": f"{number:064x}",
    }
    return Job.objects.create(network=layer.network, layer=layer, **{**defaults, **fields})


def rendered_layer(layer, number):
    """A succeeded feature-visualization job of ``layer`` with the sprite sheet and index the
    worker writes (workers.renderers.common.add_layer_sprite), tiles faked."""
    from workers.renderers.common import add_layer_sprite
    from workers.services.artifacts import ArtifactBatch

    job = new_job(layer, number)
    batch = ArtifactBatch(job)
    tiles = {index: pattern_tile(index, TILE_PIXELS) for index in range(layer.channels)}
    add_layer_sprite(job, batch, tiles)
    batch.commit()
    return job


def rendered_unit(layer, index, number):
    """A feature-visualization job of one unit: positive and negative images and the summary
    JSON, the files a render writes per unit."""
    from workers.engine.images import encode_png
    from workers.models import Artifact
    from workers.services.artifacts import ArtifactBatch

    job = new_job(layer, number, unit_indices=[index])
    batch = ArtifactBatch(job)
    unit = layer.units.get(index=index)
    for variant, seed in (("positive", index), ("negative", 10_000 + index)):
        batch.add(
            unit=unit,
            kind=Artifact.Kind.UNIT_IMAGE,
            variant=variant,
            filename=f"unit_{index:05d}_{variant}.png",
            content=encode_png(pattern_tile(seed, 128)),
            content_type="image/png",
        )
    summary = {
        "unit": f"{layer.name}:{index}",
        "objective": "channel",
        "variants": {
            variant: {"curve": [], "final_activation": {"mean": mean, "max": mean * 3}}
            for variant, mean in (("positive", 4.25), ("negative", -1.5))
        },
    }
    batch.add(
        unit=unit,
        kind=Artifact.Kind.UNIT_JSON,
        filename=f"unit_{index:05d}.json",
        content=json.dumps(summary).encode(),
        content_type="application/json",
    )
    batch.commit()
    return job


def seed():
    """The project, its network, renders, a circuit and jobs; returns (owner, circuit id)."""
    import numpy as np
    from django.contrib.auth import get_user_model

    from annotations.models import (
        Circuit,
        CircuitEdge,
        CircuitNode,
        Membership,
        Project,
        ProjectNetwork,
        Role,
    )
    from workers.models import Job, Layer, Network, Unit

    owner = get_user_model().objects.create_user("ada", "ada@example.org", "not-used-here")
    project = Project.objects.create(slug=PROJECT, name="Circuits")
    Membership.objects.create(project=project, user=owner, role=Role.OWNER)
    network = Network.objects.create(
        name=NETWORK, source=Network.Source.BUILTIN, arch="inception_v1", random_seed=0
    )
    ProjectNetwork.objects.create(project=project, network=network)
    layers = {}
    for name, order, channels in LAYERS:
        layer = Layer.objects.create(
            network=network, name=name, kind="conv", order=order, channels=channels,
            height=28, width=28, receptive_field=3, stride=1,
        )  # fmt: skip
        Unit.objects.bulk_create(
            Unit(network=network, layer=layer, index=index) for index in range(channels)
        )
        layers[name] = layer
    numbers = iter(range(1, 10_000))
    for layer in layers.values():
        rendered_layer(layer, next(numbers))
    grid_layer = layers[GRID_LAYER]
    rendered_unit(grid_layer, int(CARD_UNIT.split(":")[1]), next(numbers))
    # The jobs page: finished, failed, cancelled and one still running, as a team's list is.
    statuses = [Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED]
    for position in range(JOBS - 5):
        new_job(grid_layer, next(numbers), status=statuses[position % 3],
                progress=1.0 if position % 3 == 0 else 0.4)  # fmt: skip
    new_job(grid_layer, next(numbers), status=Job.Status.RUNNING, progress=0.3)

    circuit = Circuit.objects.create(
        project=project, network=network, name="Curve detectors",
        description="Curve detectors in **mixed3b** are built from early curves and lines.",
    )  # fmt: skip
    nodes = [
        CircuitNode.objects.create(circuit=circuit, unit=layers[name].units.get(index=index))
        for name, indices in CIRCUIT_UNITS.items()
        for index in indices
    ]
    rng = np.random.default_rng(8)
    for upper, lower in ((nodes[0:4], nodes[4:8]), (nodes[4:8], nodes[8:12])):
        for source in upper:
            for target in lower:
                kernel = rng.normal(size=(5, 5)) * rng.uniform(0.1, 1.0)
                CircuitEdge.objects.create(
                    circuit=circuit, source=source, target=target,
                    magnitude=float(np.linalg.norm(kernel)), sign=int(np.sign(kernel.sum())),
                    kind="direct", kernel=kernel.round(4).tolist(),
                )  # fmt: skip
    return owner, circuit.pk


def session_cookie(user):
    """A signed-in session of ``user``, as Django's login() would store it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return {"name": settings.SESSION_COOKIE_NAME, "value": session.session_key}


# --- server ---------------------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(arguments):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": measure.throwaway_database_url(),
        "ATLAS_GRID_CACHE_SECONDS": str(arguments.grid_cache_seconds),
    }
    command = [sys.executable, "-m", "gunicorn", "server.wsgi:application"]
    command += ["--bind", f"127.0.0.1:{port}", "--worker-class", "gthread"]
    command += ["--workers", str(arguments.workers), "--threads", str(arguments.threads)]
    command += ["--log-level", "warning"]
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


# --- browser --------------------------------------------------------------------------------


BASELINE = "baseline"


def pages(circuit_id):
    """label -> (path, the ready element, a check of what the page shows once ready). The
    baseline is the sign-in page: the same base template, stylesheet and shell script, no data
    to fetch; it is ready at its load event."""
    return {
        BASELINE: (
            "/login/",
            None,
            ("document.querySelectorAll('input[name=username]').length", 1),
        ),
        "grid": (
            f"/p/{PROJECT}/grid/{NETWORK}/{GRID_LAYER}/",
            "#grid-page",
            ("document.querySelectorAll('.tile').length", 480),
        ),
        "unit_card": (
            f"/p/{PROJECT}/units/{NETWORK}/{CARD_UNIT}/",
            "#unit-page",
            ("document.querySelector('#unit-address').textContent", CARD_UNIT),
        ),
        "jobs": (
            f"/p/{PROJECT}/jobs/",
            "#jobs-page",
            ("document.querySelectorAll('#job-rows tr').length", JOBS),
        ),
        "circuit": (
            f"/p/{PROJECT}/circuits/{circuit_id}/",
            "#circuit-page",
            ("document.querySelectorAll('#diagram .node image').length", 12),
        ),
    }


def load_once(browser, base, cookie, path, ready, check, *, waterfall=False):
    """One cold load: a new context (empty cache, only the session cookie); returns timings."""
    context = browser.new_context(viewport=VIEWPORT, base_url=base)
    try:
        context.add_cookies([{**cookie, "url": base}])
        if ready is not None:
            context.add_init_script(READY_OBSERVER.replace("READY_ELEMENT", json.dumps(ready)))
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(path, wait_until="load")
        if ready is not None:
            page.wait_for_function("() => window.__benchReady !== null || window.__benchFailed")
        timings = page.evaluate(TIMINGS)
        if ready is None:
            timings["interactive"] = timings["load"]
        if timings["failed"]:
            raise RuntimeError(f"{path}: the page reported that its data failed to load")
        expression, expected = check
        shown = page.evaluate(expression)
        if shown != expected:
            raise RuntimeError(f"{path}: {expression} is {shown!r}, expected {expected!r}")
        if waterfall:
            measure.log(f"{path}: interactive at {timings['interactive']:.0f} ms")
            for entry in page.evaluate(WATERFALL):
                measure.log(f"  {entry['start']:>6} {entry['end']:>6}  {entry['path']}")
        return {key: timings[key] for key in (*TIMED, "requests_before_interactive")}
    finally:
        context.close()


def measure_pages(base, cookie, circuit_id, repeats, *, waterfall=False):
    from playwright.sync_api import sync_playwright

    targets = pages(circuit_id)
    first = {}
    samples = {label: [] for label in targets}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for label, target in targets.items():
                first[label] = load_once(browser, base, cookie, *target)
                measure.log(f"first load of {label}: {round_all(first[label])}")
            # Round-robin, so that a burst of load on the machine spreads over all pages.
            for round_number in range(repeats):
                last = round_number == repeats - 1
                for label, target in targets.items():
                    samples[label].append(
                        load_once(browser, base, cookie, *target, waterfall=waterfall and last)
                    )
                measure.log(f"round {round_number + 1}/{repeats} done")
        finally:
            browser.close()
    return first, samples


def round_all(timings):
    return {key: round(timings[key], 1) for key in TIMED}


def summarize(samples):
    summary = {key: measure.summary([sample[key] for sample in samples], digits=1) for key in TIMED}
    summary["requests_before_interactive"] = measure.median(
        [sample["requests_before_interactive"] for sample in samples]
    )
    return summary


def chromium_version():
    answer = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False)
    return answer.stdout.strip()


def main():
    arguments = parse_arguments()
    repeats = 3 if arguments.quick else arguments.repeats
    if not Path(CHROMIUM).exists():
        measure.log(f"{CHROMIUM} is missing (Debian's chromium package)")
        return 1
    var_dir = measure.setup_django()
    load_before = os.getloadavg()
    try:
        with measure.throwaway_database():
            measure.log("seeding")
            owner, circuit_id = seed()
            cookie = session_cookie(owner)
            database = measure.database_facts()
            server, base = start_server(arguments)
            try:
                first, samples = measure_pages(
                    base, cookie, circuit_id, repeats, waterfall=arguments.waterfall
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
    except RuntimeError as error:
        measure.log(f"check failed: {error}")
        return 1
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    results = {label: summarize(page_samples) for label, page_samples in samples.items()}
    baseline = results[BASELINE]["interactive"]["median"]
    for result in results.values():
        result["ratio_to_baseline"] = round(result["interactive"]["median"] / baseline, 2)
    verdicts = {
        label: {
            "target_ms": target,
            "median_interactive_ms": results[label]["interactive"]["median"],
            "met": results[label]["interactive"]["median"] < target,
        }
        for label, target in TARGETS_MS.items()
    }
    measure.emit(
        {
            "name": "pages",
            "measured": "one cold load (a new browser context) per sample; ms from the "
            "navigation's start to the page's data-ready signal (interactive), to "
            "DOMContentLoaded's end and to the load event's end; requests_before_interactive: "
            "the median count of resources (document excluded) the page fetched before it",
            "ratio_meaning": "median interactive of the page / median load of the baseline "
            "(the sign-in page: the same template, stylesheet and shell script, no data); how "
            "many empty page loads the page costs, less sensitive to the machine's load",
            "pages": {label: path for label, (path, _, _) in pages(circuit_id).items()},
            "results": results,
            "first_load": {label: round_all(timings) for label, timings in first.items()},
            "targets": verdicts,
            "repeats": repeats,
            "server": {
                "gunicorn_workers": arguments.workers,
                "threads": arguments.threads,
                "grid_cache_seconds": arguments.grid_cache_seconds,
            },
            "load_average": {"before": load_before, "after": os.getloadavg()},
            "machine": measure.machine_facts(database={**database, "chromium": chromium_version()}),
        }
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
