#!/usr/bin/env bash
# Writes scripts/build/moss.order: the functions of `moss` that a running broker enters, in the order it first
# enters them, which scripts/build/release.sh asks the linker to place first and together. Re-run it after changes
# to start-up or to the broker's paths (a stale file only costs memory: functions it no longer names are placed
# after it, as without one; docs/benchmarks.md measures the difference). Needs cc and mosquitto-clients.
#
# The workload, recorded by first-calls.c (one breakpoint per function, each hit once) on the release binary as
# built to ship: start on embedded defaults, `moss status`, MQTT 3.1.1 and 5.0 subscribers, QoS 0/1/2 and retained
# publishes, a device shadow update and get, and a graceful stop.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/scripts/build/moss.order"
work="$(mktemp -d)"
daemon=""
cleanup() {
    if [ -n "$daemon" ]; then kill "$daemon" 2>/dev/null || true; wait "$daemon" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# The symbols are the same with or without an order file; building with none keeps this independent of the old one.
binary="${MOSS_ORDER_BINARY:-$(MOSS_ORDER_FILE= "$root/scripts/build/release.sh")}"
cc -O2 -o "$work/first-calls" "$root/scripts/build/first-calls.c"
nm --defined-only "$binary" | awk '$2 ~ /^[tTwW]$/ {print $1, $3}' >"$work/functions"

"$work/first-calls" "$work/order" "$binary" run --data-dir "$work/data" --mqtt-port 0 --log-level warning \
    <"$work/functions" >"$work/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 1 300); do [ -s "$work/data/ports.json" ] && break; sleep 0.1; done
[ -s "$work/data/ports.json" ] || { cat "$work/daemon.log" >&2; echo "order-file.sh: the daemon did not start" >&2; exit 1; }
port="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["mqtt"])' "$work/data/ports.json")"

MOSS_DATA_DIR="$work/data" "$binary" status >/dev/null
# A retained message that each subscriber receives first: once both have it, they are subscribed.
mosquitto_pub -p "$port" -t order/ready -r -q 1 -m ready
mosquitto_sub -p "$port" -V mqttv311 -t 'order/#' -C 5 -W 30 >"$work/sub311" &
sub311=$!
mosquitto_sub -p "$port" -V mqttv5 -t 'order/#' -q 2 -C 5 -W 30 >"$work/sub5" &
sub5=$!
for _ in $(seq 1 100); do [ -s "$work/sub311" ] && [ -s "$work/sub5" ] && break; sleep 0.1; done
for qos in 0 1 2; do mosquitto_pub -p "$port" -V mqttv5 -t "order/q$qos" -q "$qos" -m "message $qos"; done
mosquitto_pub -p "$port" -V mqttv311 -t order/retained -q 1 -r -m kept
wait "$sub311" "$sub5"
# mosquitto_rr subscribes to the answer before it publishes the request.
for operation in update get; do
    mosquitto_rr -p "$port" -V mqttv311 -t "\$aws/things/order/shadow/$operation" \
        -e "\$aws/things/order/shadow/$operation/accepted" -m '{"state":{"reported":{"temperature":21.5}}}' -W 30 >/dev/null
done

kill -INT "$daemon"
wait "$daemon"
daemon=""
cp "$work/order" "$out"
echo "order-file.sh: $(wc -l <"$out") functions in $out" >&2
