#!/bin/bash
# The GPU checks of issue 4 (acceptance 6) in one call, for a lent device machine whose time is
# short (15 minutes a session, start included): run from the repository root there with
#
#   bash bench/gpu.sh          # stage 1: CUDA tests, the 1,056-unit sweep compiled and eager,
#                              #          the dataset pass (about 8 minutes on an H100)
#   bash bench/gpu.sh ratios   # stage 2: batched against one-at-a-time on both networks
#   bash bench/gpu.sh step     # one mixed3b step under each GPU option (bench/gpu_step.py)
#                              # and a profile of the fastest, the compiled sweep, the CUDA
#                              # tests and the dataset pass (about 6 minutes on an H200)
#
# Each step has its own time limit and writes its JSON and log under $OUT (or bench/results
# when $OUT is not set) as it finishes, so a step cut short loses only itself. The device
# machine has its own PyTorch and no Django: the tests run with --noconftest.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD"
OUT="${OUT:-bench/results}"
mkdir -p "$OUT"

step() {  # step NAME SECONDS COMMAND...: run, keep stdout as NAME.json and stderr as NAME.log
    local name=$1 limit=$2 started
    shift 2
    started=$(date +%s)
    timeout "$limit" "$@" > "$OUT/$name.json" 2> "$OUT/$name.log"
    echo "== $name: exit $? after $(( $(date +%s) - started )) s"
    tail -c 1500 "$OUT/$name.json"
}

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python -c "import sys, torch; print(sys.version.split()[0], torch.__version__, torch.version.cuda)"
} > "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"

if [ "${1:-}" = ratios ]; then
    step ratios_inception 280 python bench/render.py --network inception_v1 --device cuda \
        --layers conv2d0,conv2d2,mixed3b --repeats 1 --compile
    step ratios_mobilenet 250 python bench/render.py --device cuda --repeats 1 --compile
    exit 0
fi

if [ "${1:-}" = step ]; then
    step gpu_step 150 python bench/gpu_step.py --stems s2d
    step sweep_compiled 150 python bench/render.py --sweep --network inception_v1 --device cuda \
        --repeats 1 --compile
    step cuda_tests 150 python -m pytest --noconftest -o addopts="" -q -p no:cacheprovider \
        tests/workers/engine/featurevis/test_cuda.py
    step dataset_examples 60 python bench/dataset_examples.py --device cuda --repeats 3
    # At most 8 files come back from a lent machine: the tests' two go in one.
    cat "$OUT/cuda_tests.log" >> "$OUT/cuda_tests.json" && rm "$OUT/cuda_tests.log"
    exit 0
fi

step cuda_tests 150 python -m pytest --noconftest -o addopts="" -q -p no:cacheprovider \
    tests/workers/engine/featurevis/test_cuda.py
step sweep_compiled 210 python bench/render.py --sweep --network inception_v1 --device cuda \
    --repeats 1 --compile
step sweep_eager 80 python bench/render.py --sweep --network inception_v1 --device cuda --repeats 1
step dataset_examples 60 python bench/dataset_examples.py --device cuda --repeats 3
