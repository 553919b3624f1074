"""The paginated units list against the health endpoint, in process through Django's Client.

A project owner, authenticated by API token as scripts are, lists the units of MobileNetV2
(17,056 units) with ``page_size`` 50, 200 and 1000. The health endpoint (no authentication,
one ``SELECT 1``, a broker check and the live workers) is the baseline cost of a request.
Latency is the median over single requests; the SQL query count of each page size must be
the same, or the script exits with status 1.
"""

import argparse
import shutil
import sys

import measure

NETWORK = "bench-mobilenet"
PAGE_SIZES = (50, 200, 1000)
# The last page of 50 shows what OFFSET costs when a client walks to the end of the list.
LAST_PAGE_SIZE = 50
HEALTH_URL = "/api/v1/health/"
WARM_UP_REQUESTS = 3


def units_url(page_size, page=1):
    return f"/api/v1/networks/{NETWORK}/units/?page_size={page_size}&page={page}"


def build_catalog():
    """A project owner with a token and MobileNetV2 registered in their project."""
    from annotations.services.accounts import user_create
    from annotations.services.networks import project_network_register
    from annotations.services.projects import project_create
    from annotations.services.tokens import token_create

    owner = user_create(username="bench-owner", actor=None)
    project = project_create(slug="bench", name="Benchmark", actor=owner)
    project_network_register(
        project=project, actor=owner, name=NETWORK, arch="mobilenet_v2", bundled_weights=True
    )
    return token_create(actor=owner, name="bench").secret


def queries_of(client, url):
    """The response to one GET and the SQL statements it ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response, [query["sql"] for query in captured.captured_queries]


def unit_pages():
    """label -> (page size, page) of every units request measured."""
    pages = {f"units_{size}": (size, 1) for size in PAGE_SIZES}
    pages[f"units_{LAST_PAGE_SIZE}_last_page"] = (LAST_PAGE_SIZE, "last")
    return pages


def _queries_constant(checks, pages):
    return len({checks[label]["queries"] for label in pages}) == 1


def _problems(checks, pages):
    """What makes this run fail: an error status, a short page, a query count that varies."""
    problems = [
        f"{label}: status {check['status']}"
        for label, check in checks.items()
        if check["status"] != 200
    ]
    problems += [
        f"{label}: {checks[label]['results']} results, expected {size}"
        for label, (size, page) in pages.items()
        if page == 1 and checks[label]["results"] != size
    ]
    if not _queries_constant(checks, pages):
        counts = {label: checks[label]["queries"] for label in pages}
        problems.append(f"the units list runs a different number of queries per page: {counts}")
    return problems


def run(repeats):
    from django.test import Client

    client = Client(headers={"Authorization": f"Token {build_catalog()}"})
    pages = unit_pages()
    endpoints = {"health": HEALTH_URL} | {
        label: units_url(size, page) for label, (size, page) in pages.items()
    }

    checks = {}
    for label, url in endpoints.items():
        response, queries = queries_of(client, url)
        body = response.json()
        checks[label] = {
            "status": response.status_code,
            "bytes": len(response.content),
            "queries": len(queries),
            "sql": queries,
            "results": len(body["results"]) if "results" in body else None,
        }
        for _ in range(WARM_UP_REQUESTS):
            client.get(url)

    samples = {label: [] for label in endpoints}
    labels = list(endpoints)
    for round_number in range(repeats):
        # Rotate the order so that no endpoint always runs right after the heaviest one.
        shift = round_number % len(labels)
        for label in labels[shift:] + labels[:shift]:
            with measure.stopwatch(samples[label]):
                client.get(endpoints[label])

    milliseconds = {label: measure.milliseconds(runs) for label, runs in samples.items()}
    health_median = measure.median(milliseconds["health"])
    candidates = {
        label: {
            "url": endpoints[label],
            "page_size": size,
            "page": page,
            "latency_ms": measure.summary(milliseconds[label], digits=3),
            "queries": checks[label]["queries"],
            "response_bytes": checks[label]["bytes"],
            "ratio": measure.ratio(measure.median(milliseconds[label]), health_median),
        }
        for label, (size, page) in pages.items()
    }
    problems = _problems(checks, pages)
    return {
        "name": "api_units_list",
        "measured": "median latency of one GET through django.test.Client, and its SQL "
        "query count, for the units list at each page size and for the health endpoint",
        "units": "milliseconds per request",
        "baseline": {
            "label": "GET /api/v1/health/",
            "url": HEALTH_URL,
            "latency_ms": measure.summary(milliseconds["health"], digits=3),
            "queries": checks["health"]["queries"],
            "status": checks["health"]["status"],
        },
        "candidate": candidates,
        "ratio": {label: value["ratio"] for label, value in candidates.items()},
        "ratio_meaning": "candidate median / health median: how many health requests one "
        "units page costs (above 1: the page is slower than the baseline)",
        "queries_constant": _queries_constant(checks, pages),
        "units_list_sql": checks[f"units_{PAGE_SIZES[0]}"]["sql"],
        "problems": problems,
        "repeats": repeats,
        "machine": measure.machine_facts(database=measure.database_facts()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50, help="requests per endpoint (50)")
    parser.add_argument("--quick", action="store_true", help="5 requests each, a smoke test")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else args.repeats
    if repeats < 1:
        parser.error("--repeats must be at least 1")

    var_dir = measure.setup_django()
    try:
        with measure.throwaway_database():
            result = run(repeats)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    measure.emit(result)
    for problem in result["problems"]:
        measure.log(f"api: {problem}")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
