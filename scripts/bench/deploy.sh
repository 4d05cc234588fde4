#!/usr/bin/env bash
# Deployment benchmark (issue 4): how long `moss deploy` takes for the tutorial's group (docs/examples/rain-group.yaml),
# first deployment and unchanged redeployments, measured by the daemon (validation to recorded result: the
# deployment's finishedAt - createdAt) and end to end (the CLI's wall time). Anchor: Greengrass V1 took 10-20 s per
# deployment (../shared/reference/greengrass-v1.md, "Top complaints").
#
#   scripts/bench/deploy.sh              # 20 redeployments; prints a markdown table
#   RUNS=50 scripts/bench/deploy.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-20}
BIN="$(scripts/build/release.sh)"
DATA=$(mktemp -d "${TMPDIR:-/tmp}/moss-deploy-bench.XXXXXX")
"$BIN" run --data-dir "$DATA" --mqtt-port 0 --mqtts-port 0 --log-level warning 2>"$DATA.log" &
DAEMON=$!
trap 'kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; rm -rf "$DATA" "$DATA.log"' EXIT
for _ in $(seq 200); do [ -f "$DATA/ports.json" ] && break; sleep 0.05; done
[ -f "$DATA/ports.json" ] || { echo "moss did not start; log:" >&2; cat "$DATA.log" >&2; exit 1; }
GROUP="$PWD/docs/examples/rain-group.yaml"

python3 - "$BIN" "$DATA" "$GROUP" "$RUNS" <<'PY'
import json, statistics, subprocess, sys, time
binary, data, group, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def deploy():
    started = time.perf_counter()
    result = subprocess.run([binary, "deploy", group, "--json", "--data-dir", data], capture_output=True, text=True)
    wall = (time.perf_counter() - started) * 1000
    if result.returncode != 0:
        sys.exit(f"moss deploy failed: {result.stderr}")
    record = json.loads(result.stdout)
    return record, (record["finishedAt"] - record["createdAt"]) * 1000, wall

first, first_daemon, first_wall = deploy()
assert not first["unchanged"], first
daemon, wall = [], []
for _ in range(runs):
    record, d, w = deploy()
    assert record["unchanged"], record
    daemon.append(d)
    wall.append(w)
median = statistics.median
print(f"| deployment of docs/examples/rain-group.yaml | daemon ms (validate → recorded) | `moss deploy` wall ms |")
print("|---|---|---|")
print(f"| first (every stage prepared and switched) | {first_daemon:.1f} | {first_wall:.0f} |")
print(f"| unchanged redeploy, median of {runs} (min–max) | {median(daemon):.1f} ({min(daemon):.1f}–{max(daemon):.1f}) | {median(wall):.0f} ({min(wall):.0f}–{max(wall):.0f}) |")
print(f"| Greengrass V1 (anchor, reported) | 10 000–20 000 | |")
PY
