#!/usr/bin/env bash
# The inference benchmark of docs/benchmarks.md, all in one run:
#   1. the tutorial pipeline (standardiser -> rain_predictor, batch 1): Moss vs TensorFlow in Python (what the
#      tutorial's Lambda does) vs ONNX Runtime in Python;
#   2. a MobileNetV2 (random weights, 224x224, batch 1) on 1 thread: Moss (ONNX and SavedModel) vs ONNX Runtime;
#   3. SGEMM 1024^2: Moss's portable kernel, Moss's engine path, OpenBLAS.
# Needs: Debian libopenblas0 (optional: without it Moss uses its portable kernel), python3 with venv, network to
# PyPI for tensorflow-cpu, tf-keras, tf2onnx and onnxruntime (installed in a throwaway venv under /tmp).
# Usage: scripts/bench/inference.sh [WORK_DIR]   (results: scripts/bench/results/inference-<date>.jsonl)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${1:-/tmp/moss-inference-bench}"
seeds="${MOSS_SEED_MODELS:-$root/../shared/seed-models}"
venv="${MOSS_BENCH_VENV:-/tmp/moss-inference-bench-venv}"
mkdir -p "$work" "$root/scripts/bench/results"
results="$root/scripts/bench/results/inference-$(date -u +%Y%m%dT%H%M%SZ).jsonl"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q tensorflow-cpu tf2onnx onnxruntime
    "$venv/bin/pip" install -q --no-deps tf-keras
fi
py="$venv/bin/python"
"$py" "$root/scripts/bench/inference_python.py" prepare "$work" "$seeds"

swift build -c release --product MossInferenceBenchmark --package-path "$root" >/dev/null
bench="$(swift build -c release --show-bin-path --package-path "$root")/MossInferenceBenchmark"

# One thread for OpenBLAS and ONNX Runtime (set in the Python script); TensorFlow keeps its defaults, as in the Lambda.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
{
    echo "{\"machine\": \"$(getconf _NPROCESSORS_ONLN) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')\", \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
    "$bench" pipeline "$work/models/standardiser" "$work/models/rain_predictor"
    "$py" "$root/scripts/bench/inference_python.py" ort-pipeline "$work"
    "$py" "$root/scripts/bench/inference_python.py" tf-pipeline "$work"
    "$bench" model "$work/mobilenet_v2.onnx" input=1x3x224x224 30
    "$bench" model "$work/mobilenet_v2" input=1x224x224x3 30
    MOSS_OPENBLAS=none "$bench" model "$work/mobilenet_v2.onnx" input=1x3x224x224 5
    "$py" "$root/scripts/bench/inference_python.py" ort-model "$work/mobilenet_v2.onnx"
    "$bench" sgemm 1024 10
} | tee "$results"
echo "results: $results"
"$py" "$root/scripts/bench/inference_table.py" "$results"
