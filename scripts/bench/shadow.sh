#!/usr/bin/env bash
# Device shadow benchmark (issue 3): acknowledged shadow updates per second through the daemon, over MQTT.
#
# Builds the release `moss` and scripts/bench/shadowbench.c, starts `moss run` with its data directory on the
# real disk (default .build/bench-shadow/ in the repo; tmpfs is refused), daemon pinned to CPU 0 and the
# generator to CPU 1, and per round runs
#   (a) throughput: CLIENTS things (one MQTT client each), QoS 1, WINDOW outstanding updates per client,
#       subscribed to update/accepted + update/rejected only (the service still publishes update/documents);
#   (b) the same, also subscribed to update/documents;
#   (c) round-trip latency: LAT_CLIENTS client(s), window 1;
#   (d) the in-process benchmark (MossShadowBenchmark / moss-shadow-bench) when the package has it,
#       after the round's daemon has stopped; its lines are printed as they are.
# An update counts when its `update/accepted` reply (= committed to SQLite) arrives, matched by clientToken.
# Rounds alternate the scenarios (order rotated each round; a fresh daemon and data directory per round);
# the tables show medians. After the last round a short probe counts the daemon's fsync/fdatasync calls per
# acknowledged update (strace; SYNC_PROBE=0 skips it). Results: OUT/results.jsonl, OUT/summary.md, and the
# section between <!-- shadow-bench:begin --> and <!-- shadow-bench:end --> of docs/benchmarks.md.
#
#   scripts/bench/shadow.sh                         # 3 rounds, ~3 min
#   ROUNDS=1 NO_DOCS=1 scripts/bench/shadow.sh      # quick look, leaves docs/benchmarks.md alone
# Knobs [defaults]: ROUNDS [3] WARMUP [2] DURATION [10] DRAIN [10] CLIENTS [10] WINDOW [32] LAT_CLIENTS [1]
#   SHADOW_NAME [] (named shadow instead of the classic one)  DATA_ROOT [.build/bench-shadow]
#   DAEMON_CPU [0] GEN_CPU [1]  INPROC_CPU [] (taskset list for (d); unpinned when empty)
#   SYNC_PROBE [1]  SKIP_INPROC [0]  NO_DOCS [0]  OUT [scripts/bench/results/shadow-<date>]
#   ALLOW_TMPFS [0] (accept a RAM-backed data directory; the numbers then do not measure durability)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-2}
DURATION=${DURATION:-10}
DRAIN=${DRAIN:-10}
CLIENTS=${CLIENTS:-10}
WINDOW=${WINDOW:-32}
LAT_CLIENTS=${LAT_CLIENTS:-1}
SHADOW_NAME=${SHADOW_NAME:-}
DATA_ROOT=${DATA_ROOT:-$ROOT/.build/bench-shadow}
DAEMON_CPU=${DAEMON_CPU:-0}
GEN_CPU=${GEN_CPU:-1}
INPROC_CPU=${INPROC_CPU:-}
SYNC_PROBE=${SYNC_PROBE:-1}
SKIP_INPROC=${SKIP_INPROC:-0}
NO_DOCS=${NO_DOCS:-0}
ALLOW_TMPFS=${ALLOW_TMPFS:-0}
OUT=${OUT:-$ROOT/scripts/bench/results/shadow-$(date +%Y%m%d-%H%M%S)}
COMMAND="ROUNDS=$ROUNDS WARMUP=$WARMUP DURATION=$DURATION CLIENTS=$CLIENTS WINDOW=$WINDOW LAT_CLIENTS=$LAT_CLIENTS${SHADOW_NAME:+ SHADOW_NAME=$SHADOW_NAME} scripts/bench/shadow.sh"

mkdir -p "$OUT" "$DATA_ROOT"
DATA_ROOT=$(cd "$DATA_ROOT" && pwd)
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"

# ---------------------------------------------------------------- the disk must be a disk
FSTYPE=$(stat -f -c %T "$DATA_ROOT")
case "$FSTYPE" in
    tmpfs | ramfs)
        if [ "$ALLOW_TMPFS" != 1 ]; then
            echo "shadow.sh: $DATA_ROOT is on $FSTYPE; the benchmark measures durable (fsynced) updates, so it" \
                 "needs a real disk. Set DATA_ROOT to a directory on one (or ALLOW_TMPFS=1)." >&2
            exit 1
        fi ;;
esac

# ---------------------------------------------------------------- build
echo "== building (release): moss, shadowbench"
MOSS=$("$ROOT/scripts/build/release.sh" 2> "$OUT/build.log") \
    || { tail -30 "$OUT/build.log" >&2; echo "shadow.sh: swift build failed, see $OUT/build.log" >&2; exit 1; }
# Other release products (the in-process benchmark) build with SwiftPM's defaults.
BIN=$(cd "$ROOT" && swift build -c release --show-bin-path)
SB="$DATA_ROOT/shadowbench"
cc -O2 -Wall -Wextra -o "$SB" "$ROOT/scripts/bench/shadowbench.c" -lm

# The in-process benchmark: an executable product "moss-shadow-bench" or the target MossShadowBenchmark.
INPROC=""
INPROC_NOTE="not run: the package has no MossShadowBenchmark / moss-shadow-bench executable"
if [ "$SKIP_INPROC" = 1 ]; then
    INPROC_NOTE="skipped (SKIP_INPROC=1)"
else
    product=""
    if grep -q '"moss-shadow-bench"' "$ROOT/Package.swift"; then product=moss-shadow-bench
    elif grep -q '"MossShadowBenchmark"' "$ROOT/Package.swift"; then product=MossShadowBenchmark; fi
    if [ -n "$product" ]; then
        if (cd "$ROOT" && swift build -c release --product "$product") >> "$OUT/build.log" 2>&1; then
            for candidate in "$BIN/MossShadowBenchmark" "$BIN/moss-shadow-bench"; do
                if [ -x "$candidate" ]; then INPROC=$candidate; break; fi
            done
            [ -n "$INPROC" ] || INPROC_NOTE="not run: product $product built but no executable in $BIN"
        else
            INPROC_NOTE="not run: swift build --product $product failed (see build.log)"
            echo "shadow.sh: warning: $INPROC_NOTE" >&2
        fi
    fi
fi

# ---------------------------------------------------------------- CPU pinning
PIN_D=() PIN_G=() PIN_I=()
NPROC=$(nproc)
if [ "$NPROC" -ge 2 ] && command -v taskset > /dev/null; then
    PIN_D=(taskset -c "$DAEMON_CPU")
    PIN_G=(taskset -c "$GEN_CPU")
    PINNING="daemon on CPU $DAEMON_CPU, generator on CPU $GEN_CPU (taskset)"
else
    PINNING="not pinned ($NPROC CPU(s)$(command -v taskset > /dev/null || echo ', no taskset'))"
fi
[ -n "$INPROC_CPU" ] && command -v taskset > /dev/null && PIN_I=(taskset -c "$INPROC_CPU")

# ---------------------------------------------------------------- machine and disk conditions
CPU_MODEL=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //' || true)
MOUNT=$(findmnt -no SOURCE,FSTYPE,OPTIONS -T "$DATA_ROOT" 2> /dev/null || df -PT "$DATA_ROOT" | tail -1)
DEV=$(findmnt -no SOURCE -T "$DATA_ROOT" 2> /dev/null || true)
ROTA=$(lsblk -dno ROTA "$DEV" 2> /dev/null | head -1 | tr -d ' ' || true)
# Synced 4 KiB writes in the data directory: what one fsync costs on this disk (dd with O_DSYNC).
DSYNC_S=$(dd if=/dev/zero of="$DATA_ROOT/dsync.probe" bs=4k count=1000 oflag=dsync 2>&1 | awk '/copied/{print $(NF-3)}' || true)
rm -f "$DATA_ROOT/dsync.probe"
DSYNC_RATE=$(awk -v s="${DSYNC_S:-0}" 'BEGIN{ if (s > 0) printf "%.0f", 1000 / s; else print "?" }')
SYNC_SRC=$(grep -rhoE 'PRAGMA synchronous *= *[A-Za-z]+' "$ROOT/Sources" 2> /dev/null | sort -u | paste -sd, - || true)
{
    echo "host: $(uname -srm); nproc $NPROC; ${CPU_MODEL:-unknown CPU}; $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)"
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "pinning: $PINNING"
    echo "data directory: $DATA_ROOT (stat -f: $FSTYPE; mount: $MOUNT; rotational: ${ROTA:-?})"
    echo "disk: ${DSYNC_RATE} synced 4 KiB writes/s (dd oflag=dsync, 1000 writes)"
    echo "database: WAL + ${SYNC_SRC:-?} (set by Sources/MossStore/MossDatabase.swift on the writer)"
    echo "moss: $MOSS ($(stat -c %s "$MOSS") bytes, $(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && [ -z "$(git status --porcelain -- Sources Package.swift 2> /dev/null)" ] || echo ' + uncommitted changes'))"
} | tee "$OUT/conditions.txt"

# ---------------------------------------------------------------- daemon
DAEMON_PID=""
STRACE_PID=""
cleanup() {
    if [ -n "$STRACE_PID" ]; then kill -INT "$STRACE_PID" 2> /dev/null || true; wait "$STRACE_PID" 2> /dev/null || true; fi
    if [ -n "$DAEMON_PID" ]; then kill -TERM "$DAEMON_PID" 2> /dev/null || true; wait "$DAEMON_PID" 2> /dev/null || true; fi
}
trap cleanup EXIT

start_daemon() { # DIR
    local dir=$1
    rm -rf "$dir"
    mkdir -p "$dir"
    "${PIN_D[@]}" "$MOSS" run --data-dir "$dir" --mqtt-port 0 --mqtts-port 0 --log-level warning > "$dir.log" 2>&1 &
    DAEMON_PID=$!
    for _ in $(seq 1 300); do
        [ -s "$dir/ports.json" ] && break
        if ! kill -0 "$DAEMON_PID" 2> /dev/null; then
            wait "$DAEMON_PID" || true
            DAEMON_PID=""
            echo "shadow.sh: moss exited before it was ready; log $dir.log:" >&2
            tail -20 "$dir.log" >&2
            exit 1
        fi
        sleep 0.1
    done
    [ -s "$dir/ports.json" ] || { echo "shadow.sh: no $dir/ports.json after 30 s" >&2; exit 1; }
    sleep 0.2 # the file is written whole, but give a slow writer a moment
    PORT=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["mqtt"])' "$dir/ports.json")
}

stop_daemon() { # DIR
    kill -TERM "$DAEMON_PID"
    for _ in $(seq 1 200); do kill -0 "$DAEMON_PID" 2> /dev/null || break; sleep 0.1; done
    if kill -0 "$DAEMON_PID" 2> /dev/null; then
        echo "shadow.sh: warning: moss did not stop within 20 s of SIGTERM; killing it" >&2
        kill -KILL "$DAEMON_PID" 2> /dev/null || true
    fi
    wait "$DAEMON_PID" 2> /dev/null || true
    DAEMON_PID=""
    # journal mode from the file header (bytes 18-19 are 2 2 in WAL mode); synchronous is per connection and
    # not stored, which is why the probe below counts the syncs instead.
    if [ -f "$1/moss.sqlite" ]; then
        case "$(od -An -tu1 -j18 -N2 "$1/moss.sqlite" | tr -s ' ')" in
            " 2 2") JOURNAL=wal ;;
            " 1 1") JOURNAL="rollback (not WAL)" ;;
            *) JOURNAL=unknown ;;
        esac
        DB_BYTES=$(stat -c %s "$1/moss.sqlite")
    fi
}

NAMED=()
[ -n "$SHADOW_NAME" ] && NAMED=(-n "$SHADOW_NAME")
scenario_args() { # a|b|c -> ARGS
    case $1 in
        a) ARGS=(-c "$CLIENTS" -W "$WINDOW") ;;
        b) ARGS=(-c "$CLIENTS" -W "$WINDOW" -D) ;;
        c) ARGS=(-c "$LAT_CLIENTS" -L) ;;
    esac
}

# Busy and steal jiffies of all CPUs together: busy beyond daemon + generator means other load on the machine.
CLK_TCK=$(getconf CLK_TCK)
cpu_jiffies() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8, $9}' /proc/stat; }

run_scenario() { # SCENARIO ROUND
    local s=$1 r=$2 line rc=0 rss j0 j1 t0 t1 machine
    scenario_args "$s"
    j0=$(cpu_jiffies) t0=$(date +%s.%N)
    line=$("${PIN_G[@]}" "$SB" -p "$PORT" -w "$WARMUP" -t "$DURATION" -d "$DRAIN" -S "$DAEMON_PID" -J \
        -l "$s" "${NAMED[@]}" "${ARGS[@]}" 2> "$OUT/$s-r$r.err") || rc=$?
    j1=$(cpu_jiffies) t1=$(date +%s.%N)
    machine=$(awk -v a="$j0" -v b="$j1" -v s="$t0" -v e="$t1" -v hz="$CLK_TCK" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        printf "\"machine_cpu_pct\":%.1f,\"steal_pct\":%.1f", 100 * (y[1] - x[1]) / hz / (e - s), 100 * (y[2] - x[2]) / hz / (e - s) }')
    rss=$(awk '/^VmRSS/{print $2}' "/proc/$DAEMON_PID/status" 2> /dev/null || echo 0)
    if [ -n "$line" ]; then
        echo "${line%\}},\"round\":$r,\"daemon_rss_kb\":${rss:-0},$machine,\"exit\":$rc}" >> "$RESULTS"
        python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("   %s r%s: %.0f updates/s  p50 %s us  p99 %s us  max %s us  rejected %d  daemon CPU %s%%  generator CPU %.0f%%" % (r["label"], sys.argv[2], r["updates_per_s"], r["lat_p50_us"], r["lat_p99_us"], r["lat_max_us"], r["rejected_total"], r["server_cpu_pct"], r["client_cpu_pct"]))' "$line" "$r"
    fi
    if [ "$rc" != 0 ]; then
        cat "$OUT/$s-r$r.err" >&2
        echo "shadow.sh: shadowbench failed (exit $rc) in scenario $s, round $r; daemon log: $DATA_ROOT/data-r$r.log" >&2
        exit 1
    fi
}

# ---------------------------------------------------------------- rounds
JOURNAL=unknown DB_BYTES=0 SYNCS="" PROBE_ACKED=""
: > "$OUT/inproc.txt"
SCEN=(a b c)
for r in $(seq 1 "$ROUNDS"); do
    echo "== round $r/$ROUNDS"
    start_daemon "$DATA_ROOT/data-r$r"
    echo "   moss pid $DAEMON_PID, MQTT port $PORT"
    for k in 0 1 2; do run_scenario "${SCEN[$(((k + r - 1) % 3))]}" "$r"; done
    if [ "$r" = "$ROUNDS" ] && [ "$SYNC_PROBE" = 1 ]; then
        if command -v strace > /dev/null; then
            # Not a measurement (strace slows the daemon): counts durable syncs per acknowledged update.
            "${PIN_G[@]}" strace -f -c -e trace=fsync,fdatasync,sync_file_range -p "$DAEMON_PID" -o "$OUT/strace.txt" 2> "$OUT/strace.err" &
            STRACE_PID=$!
            sleep 1
            scenario_args a
            probe=$("${PIN_G[@]}" "$SB" -p "$PORT" -w 0 -t 3 -d "$DRAIN" -J -l probe "${NAMED[@]}" "${ARGS[@]}" 2>> "$OUT/strace.err" || true)
            kill -INT "$STRACE_PID" 2> /dev/null || true
            wait "$STRACE_PID" 2> /dev/null || true
            STRACE_PID=""
            SYNCS=$(awk '$NF ~ /^(fsync|fdatasync|sync_file_range)$/ {n += $4} END {print n + 0}' "$OUT/strace.txt" 2> /dev/null || true)
            PROBE_ACKED=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["accepted_total"])' "$probe" 2> /dev/null || true)
        else
            echo "   (sync probe skipped: strace is not installed)"
        fi
    fi
    stop_daemon "$DATA_ROOT/data-r$r"
    if [ -n "$INPROC" ]; then
        echo "   in-process: ${PIN_I[*]:-} $INPROC --data-dir $DATA_ROOT/inproc-r$r"
        rm -rf "$DATA_ROOT/inproc-r$r"
        mkdir -p "$DATA_ROOT/inproc-r$r"
        echo "round $r:" >> "$OUT/inproc.txt"
        "${PIN_I[@]}" "$INPROC" --data-dir "$DATA_ROOT/inproc-r$r" 2> "$OUT/inproc-r$r.err" | tee -a "$OUT/inproc.txt" \
            || { cat "$OUT/inproc-r$r.err" >&2; echo "shadow.sh: the in-process benchmark failed in round $r" >&2; exit 1; }
    fi
done

SYNC_LINE="sync probe not run"
if [ -n "$SYNCS" ] && [ -n "$PROBE_ACKED" ] && [ "$PROBE_ACKED" -gt 0 ]; then
    SYNC_LINE=$(awk -v s="$SYNCS" -v a="$PROBE_ACKED" 'BEGIN{printf "%d fsync/fdatasync calls for %d acknowledged updates (%.3f per update; strace, 3 s, scenario a)", s, a, s / a}')
fi
{
    echo "database after the last round: journal_mode $JOURNAL (file header), ${SYNC_SRC:-synchronous ?}, $DB_BYTES bytes"
    echo "durability probe: $SYNC_LINE"
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee -a "$OUT/conditions.txt"

# ---------------------------------------------------------------- summary
python3 - "$RESULTS" "$OUT/conditions.txt" "$OUT/inproc.txt" "$COMMAND" "$INPROC_NOTE" "$INPROC" \
    "${PIN_I[*]:-unpinned}" "$WARMUP" "$DURATION" "$CLIENTS" "$WINDOW" "$LAT_CLIENTS" "$SHADOW_NAME" \
    > "$OUT/summary.md" << 'PY'
import json, statistics, sys
(results, conditions, inproc, command, inproc_note, inproc_bin, inproc_pin, warmup, duration, clients, window,
 lat_clients, shadow) = sys.argv[1:14]
rows = [json.loads(l) for l in open(results) if l.strip()]
names = {
    "a": "(a) %s things, window %s, accepted+rejected subscribed" % (clients, window),
    "b": "(b) %s things, window %s, + update/documents subscribed" % (clients, window),
    "c": "(c) %s thing%s, window 1 (round trip)" % (lat_clients, "" if lat_clients == "1" else "s"),
}
def med(xs):
    xs = [x for x in xs if x is not None and x >= 0]
    return statistics.median(xs) if xs else float("nan")
rounds = max([r["round"] for r in rows], default=0)
print("Command: `%s` (results and raw data under scripts/bench/results/). Generator: `scripts/bench/shadowbench.c`, "
      "MQTT 3.1.1, QoS 1 publish and subscribe, %s s warm-up, %s s measured per run; "
      "an update counts when its `update/accepted` reply arrives (matched by clientToken); latency is publish → "
      "accepted. %s shadow. Median of %d alternated round%s (fresh daemon and database per round)."
      % (command, warmup, duration, "Named (`%s`)" % shadow if shadow else "Classic", rounds, "" if rounds == 1 else "s"))
print()
print("Conditions:")
print()
for line in open(conditions):
    if line.strip():
        print("- " + line.strip())
print()
print("| scenario | acknowledged updates/s (median; min–max) | documents/s | p50 µs | p99 µs | max µs | daemon CPU % | generator CPU % | machine CPU % (steal) | rejected |")
print("|---|---|---|---|---|---|---|---|---|---|")
for s in ("a", "b", "c"):
    rs = [r for r in rows if r["label"] == s]
    if not rs:
        continue
    ups = [r["updates_per_s"] for r in rs]
    print("| %s | **%.0f** (%.0f–%.0f) | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f (%.0f) | %d |" % (
        names[s], med(ups), min(ups), max(ups),
        "%.0f" % med([r["documents_per_s"] for r in rs]) if s == "b" else "–",
        med([r["lat_p50_us"] for r in rs]), med([r["lat_p99_us"] for r in rs]),
        max(r["lat_max_us"] or 0 for r in rs), med([r["server_cpu_pct"] for r in rs]),
        med([r["client_cpu_pct"] for r in rs]), med([r["machine_cpu_pct"] for r in rs]),
        med([r["steal_pct"] for r in rs]), sum(r["rejected_total"] for r in rs)))
a = [r["updates_per_s"] for r in rows if r["label"] == "a"]
if a:
    m = med(a)
    print()
    print("Target ≥ 10 000 acknowledged updates/s (scenario a): **%s** (%.0f/s). Max µs is the largest of the rounds; "
          "daemon and generator CPU are over the measured seconds (100 = one core); machine CPU is all cores over the "
          "whole run (warm-up and drain included), so well above daemon + generator means other load." % (
          "met" if m >= 10000 else "not met", m))
print()
print("In-process (`%s --data-dir …`, %s):" % (inproc_bin.rsplit("/", 1)[-1], inproc_pin) if inproc_bin
      else "In-process benchmark: %s." % inproc_note)
text = open(inproc).read().strip()
if inproc_bin and text:
    print()
    print("```")
    print(text)
    print("```")
PY

echo
cat "$OUT/summary.md"
if [ "$NO_DOCS" != 1 ]; then
    MD="$ROOT/docs/benchmarks.md"
    if ! grep -q '<!-- shadow-bench:begin -->' "$MD" 2> /dev/null; then
        printf '\n## Device shadows (issue 3)\n' >> "$MD"
    fi
    python3 "$ROOT/scripts/bench/update_benchmarks_md.py" "$MD" shadow-bench "$OUT/summary.md"
    echo "docs/benchmarks.md: shadow-bench section updated"
fi
echo "raw results in $OUT"
