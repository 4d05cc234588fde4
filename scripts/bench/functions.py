#!/usr/bin/env python3
"""Warm on-demand invocation latency (issue 5): MQTT in -> Python handler (greengrasssdk publish) -> MQTT out,
through a running Moss, beside the floor of a bare Python process echoing over a pipe. Run by
scripts/bench/functions.sh, which builds Moss, starts it and deploys the group; prints a markdown table.

Usage: functions.py MQTT_PORT RUNS PYTHON
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def through_moss(port: int, runs: int) -> tuple[list[float], float]:
    arrived = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="sensor")
    client.on_message = lambda *_: arrived.set()
    client.connect("127.0.0.1", port)
    client.loop_start()
    # QoS 0 both ways: a PUBACK written just before the next PUBLISH would make the client wait for a delayed
    # ACK (Nagle), 40 ms that belong to the client, not to Moss.
    client.subscribe("out/bench", 0)
    time.sleep(0.5)
    latencies = []
    for n in range(runs + 20):
        arrived.clear()
        started = time.perf_counter()
        client.publish("in/bench", json.dumps({"n": n}), qos=0)
        if not arrived.wait(10):
            sys.exit(f"no reply to invocation {n}")
        if n >= 20:  # the first ones start the worker and warm it
            latencies.append((time.perf_counter() - started) * 1e6)
    # Throughput: many in flight at once (the on-demand workers share them).
    count = 0
    done = threading.Event()
    total = runs

    def on_message(*_):
        nonlocal count
        count += 1
        if count >= total:
            done.set()

    client.on_message = on_message
    started = time.perf_counter()
    for n in range(total):
        client.publish("in/bench", json.dumps({"n": n}), qos=0)
    done.wait(120)
    rate = count / (time.perf_counter() - started)
    client.loop_stop()
    client.disconnect()
    return latencies, rate


def pipe_floor(python: str, runs: int) -> list[float]:
    echo = subprocess.Popen(
        [python, "-u", "-c", "import sys\nfor line in sys.stdin:\n    sys.stdout.write(line)\n    sys.stdout.flush()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
    )
    latencies = []
    for n in range(runs + 20):
        started = time.perf_counter()
        echo.stdin.write(json.dumps({"n": n}) + "\n")
        echo.stdin.flush()
        echo.stdout.readline()
        if n >= 20:
            latencies.append((time.perf_counter() - started) * 1e6)
    echo.stdin.close()
    echo.wait()
    return latencies


def main() -> None:
    port, runs, python = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    moss, rate = through_moss(port, runs)
    floor = pipe_floor(python, runs)
    print("| path | p50 µs | p99 µs | invocations/s |")
    print("|---|---|---|---|")
    print(f"| Moss: MQTT in → on-demand Python handler → greengrasssdk publish → MQTT out (warm, one at a time) "
          f"| {statistics.median(moss):.0f} | {percentile(moss, 0.99):.0f} | {rate:.0f} (many in flight) |")
    print(f"| floor: a bare Python process echoing a line over a pipe | {statistics.median(floor):.0f} "
          f"| {percentile(floor, 0.99):.0f} | |")


if __name__ == "__main__":
    main()
