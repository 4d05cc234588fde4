#!/usr/bin/env bash
# Moss's broker and mosquitto 2.0.11 side by side, with the method of ../shared/reference/mqtt.md §2:
# broker pinned to CPU 0, load generator (../shared/bench/mqttbench.c) on CPU 1, same limits (in-flight 20,
# queue 1000, no persistence for clean sessions), brokers alternated round by round, medians compared.
# Writes the tables into docs/benchmarks.md (between the broker markers) and raw data under OUT.
#
#   scripts/bench/broker.sh                      # full run, ~35 min
#   ROUNDS=1 SKIP_LAT=1 SKIP_MEM=1 scripts/bench/broker.sh   # quick throughput look
# Knobs: ROUNDS [3] PORT [18831] SCENARIOS QOSES SIZES LAT_LEVELS CONNS (as run_bench.sh) SKIP_MAX/LAT/MEM NO_DOCS
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18831}
OUT=${OUT:-$ROOT/scripts/bench/results/broker-$(date +%Y%m%d-%H%M%S)}
export PORT

command -v mosquitto >/dev/null || PATH=$PATH:/usr/sbin
command -v mosquitto >/dev/null || { echo "mosquitto is not installed (apt-get install mosquitto)" >&2; exit 1; }
command -v taskset >/dev/null || { echo "taskset is missing (apt-get install util-linux)" >&2; exit 1; }

mkdir -p "$OUT/kit"
# Copy the kit: run_bench.sh builds mqttbench next to itself, and shared/ is read-only.
cp "$SHARED/bench/run_bench.sh" "$SHARED/bench/mqttbench.c" "$SHARED/bench/summarize.py" \
   "$SHARED/bench/mosquitto-bench.conf" "$OUT/kit/"
chmod +x "$OUT/kit/run_bench.sh"

MOSS="$("$ROOT/scripts/build/release.sh")"
echo "moss: $MOSS ($(stat -c %s "$MOSS") bytes); mosquitto: $(mosquitto -h 2>/dev/null | head -1)" | tee "$OUT/versions.txt"

run_broker() { # NAME PHASE [env...]
    local name=$1 phase=$2; shift 2
    local cmd=""
    if [ "$name" = moss ]; then
        rm -rf "$OUT/moss-data"
        cmd="$MOSS run --data-dir $OUT/moss-data --mqtt-port $PORT --log-level warning"
    fi
    echo "== $name $phase"
    env "$@" BROKER_CMD="$cmd" OUT="$OUT/$name-$phase" "$OUT/kit/run_bench.sh" > "$OUT/$name-$phase.log" 2>&1 \
        || { echo "run failed, see $OUT/$name-$phase.log" >&2; tail -5 "$OUT/$name-$phase.log" >&2; }
}

if [ "${SKIP_MAX:-0}" != 1 ]; then
    for r in $(seq 1 "$ROUNDS"); do
        for b in mosquitto moss; do run_broker "$b" "max-r$r" REPEAT=1 SKIP_LAT=1 SKIP_MEM=1; done
    done
fi
if [ "${SKIP_LAT:-0}" != 1 ]; then
    for b in mosquitto moss; do run_broker "$b" lat SKIP_MAX=1 SKIP_MEM=1; done
fi
if [ "${SKIP_MEM:-0}" != 1 ]; then
    for b in mosquitto moss; do run_broker "$b" mem SKIP_MAX=1 SKIP_LAT=1; done
fi

python3 "$ROOT/scripts/bench/broker_compare.py" "$OUT" > "$OUT/comparison.md"
# NO_DOCS=1 keeps docs/benchmarks.md as it is (for partial runs).
[ "${NO_DOCS:-0}" = 1 ] || python3 "$ROOT/scripts/bench/update_benchmarks_md.py" "$ROOT/docs/benchmarks.md" broker "$OUT/comparison.md"
cat "$OUT/comparison.md"
echo "raw results in $OUT"
