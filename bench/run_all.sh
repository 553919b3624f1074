#!/usr/bin/env bash
# Smoke-run every benchmark with --quick: one JSON line each on stdout, progress on stderr.
# Extra arguments (e.g. --repeats 10 instead of the default --quick) go to every benchmark.
# Exits non-zero if any benchmark failed; the others still run.
set -uo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
if [ "$#" -eq 0 ]; then
    set -- --quick
fi

status=0
for benchmark in bench_registration bench_api bench_first_layer; do
    "$PYTHON" "bench/$benchmark.py" "$@" || {
        echo "bench/$benchmark.py failed" >&2
        status=1
    }
done
exit "$status"
