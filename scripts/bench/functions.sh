#!/usr/bin/env bash
# Function invocation benchmark (issue 5): warm on-demand invocation latency and throughput through Moss (release
# build), beside the floor of a bare Python process echoing over a pipe. Target: p50 <= 2 ms.
#   scripts/bench/functions.sh            # 500 invocations
#   RUNS=2000 scripts/bench/functions.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-500}
# The client side (paho) runs on the tests' Python; the function on the system Python, which the unprivileged user
# functions run as (when Moss is root) can use, with greengrasssdk shipped in its code as V1 functions did.
PYTHON=${PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}
FUNCTION_PYTHON=${FUNCTION_PYTHON:-/usr/bin/python3}
"$PYTHON" -c "import greengrasssdk, paho.mqtt" || { echo "needs greengrasssdk and paho-mqtt for $PYTHON" >&2; exit 1; }
SDK=$("$PYTHON" -c 'import greengrasssdk, os; print(os.path.dirname(greengrasssdk.__file__))')
BIN="$(scripts/build/release.sh)"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/moss-functions-bench.XXXXXX")
chmod 755 "$WORK"
mkdir -p "$WORK/echo"
cp -r "$SDK" "$WORK/echo/greengrasssdk"
chmod -R a+rX "$WORK/echo"
cat > "$WORK/echo/echo.py" <<'PY'
import greengrasssdk
iot = greengrasssdk.client("iot-data")
def handler(event, context):
    iot.publish(topic="out/bench", payload=b"ok")
PY
cat > "$WORK/group.yaml" <<'YAML'
core:
  thingName: gateway
devices:
  - thingName: sensor
functions:
  - id: echo
    name: echo
    runtime: python3.11
    handler: echo.handler
    code: echo
    isolationMode: NoContainer
subscriptions:
  - id: in
    source: device:sensor
    subject: in/bench
    target: function:echo
  - id: out
    source: function:echo
    subject: out/bench
    target: device:sensor
YAML
printf 'functions:\n  python: %s\n' "$FUNCTION_PYTHON" > "$WORK/moss.yaml"
"$BIN" run --config "$WORK/moss.yaml" --data-dir "$WORK/data" --mqtt-port 0 --mqtts-port 0 --log-level warning 2>"$WORK/log" &
DAEMON=$!
trap 'kill "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 200); do [ -f "$WORK/data/ports.json" ] && break; sleep 0.05; done
"$BIN" deploy "$WORK/group.yaml" --data-dir "$WORK/data" >/dev/null
PORT=$("$PYTHON" -c "import json; print(json.load(open('$WORK/data/ports.json'))['mqtt'])")
"$PYTHON" scripts/bench/functions.py "$PORT" "$RUNS" "$FUNCTION_PYTHON"
