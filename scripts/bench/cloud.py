#!/usr/bin/env python3
"""Messages per second from Moss's spooler to the cloud (mosquitto over mutual TLS on loopback).

V1's GGCloudSpooler had one message in flight, which capped it near 20 msg/s; Moss keeps up to
`cloud.maximumInflightMessages` (20) in flight. Two measurements per storage (FileSystem, Memory):

- drain: the cloud is down while a device publishes N QoS 1 messages (they are spooled); the cloud comes back and the
  clock runs from Moss's reconnect until the cloud application has all N;
- live: the cloud is up; a device publishes N QoS 1 messages back to back and the clock runs until the cloud
  application has all N (device -> Moss broker -> router -> spool -> cloud).

    scripts/bench/cloud.py [N]        # MOSS_BINARY=... to measure another build (default: the debug build)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT / "IntegrationTests"))

from broker_helpers import PahoClient  # noqa: E402
from cloud_helpers import HOST, Mosquitto, cloud_status, deploy  # noqa: E402
from conftest import run_moss, start_moss, wait_until  # noqa: E402

GROUP = """\
core:
  thingName: gateway
devices:
  - thingName: sensor
subscriptions:
  - id: up
    source: device:sensor
    subject: telemetry/#
    target: cloud
"""


def binary() -> Path:
    if os.environ.get("MOSS_BINARY"):
        return Path(os.environ["MOSS_BINARY"])
    import subprocess

    path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True)
    return Path(path.stdout.strip()) / "moss"


def measure(moss_binary: Path, work: Path, storage: str, count: int) -> dict:
    cloud_dir = work / f"cloud-{storage}"
    run_moss(moss_binary, "certs", "init", "--data-dir", str(cloud_dir), check=True)
    run_moss(moss_binary, "certs", "device", "gateway", "--data-dir", str(cloud_dir), check=True)
    certs = cloud_dir / "certs"
    mosquitto = Mosquitto(cloud_dir, certs / "ca.pem", certs / "server.pem", certs / "server.key")
    mosquitto.start()
    config = work / f"moss-{storage}.yaml"
    config.write_text(
        f"""\
cloud:
  endpoint: {HOST}
  port: {mosquitto.tls_port}
  certificate: {certs / "devices" / "gateway.pem"}
  privateKey: {certs / "devices" / "gateway.key"}
  caCertificate: {certs / "ca.pem"}
  maximumReconnectDelaySeconds: 1
  spooler:
    storage: {storage}
    maximumBytes: 104857600
"""
    )
    moss = start_moss(moss_binary, work / f"data-{storage}", "--config", str(config))
    clients: list[PahoClient] = []
    try:
        deploy(moss, work / "group.yaml", GROUP)
        wait_until(lambda: cloud_status(moss)["connection"]["state"] == "connected", "connected", timeout=30)
        payload = b"x" * 100

        def app() -> PahoClient:
            client = PahoClient(mosquitto.plain_port, client_id="bench-app", version=4, clean=False)
            client.connect()
            clients.append(client)
            return client

        receiver = app()
        receiver.subscribe("telemetry/#", qos=1)
        sensor = PahoClient(moss.mqtt_port, client_id="sensor", version=4)
        sensor.connect()
        clients.append(sensor)

        # live
        start = time.monotonic()
        for index in range(count):
            sensor.client.publish(f"telemetry/{index % 10}", payload, qos=1)
        receiver.receive(count, timeout=600)
        live = time.monotonic() - start

        # drain
        receiver.close()
        mosquitto.stop()
        wait_until(lambda: cloud_status(moss)["connection"]["state"] != "connected", "disconnected", timeout=30)
        for index in range(count):
            sensor.client.publish(f"telemetry/{index % 10}", payload, qos=1)
        wait_until(lambda: cloud_status(moss)["spool"]["depth"] == count, "all spooled", timeout=600)
        mosquitto.start()
        receiver = app()
        wait_until(lambda: cloud_status(moss)["connection"]["state"] == "connected", "reconnected", timeout=30, interval=0.005)
        start = time.monotonic()
        receiver.receive(count, timeout=600)
        drain = time.monotonic() - start
        return {"storage": storage, "messages": count, "live_per_s": count / live, "drain_per_s": count / drain}
    finally:
        for client in clients:
            client.close()
        moss.stop()
        mosquitto.stop()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    moss_binary = binary()
    with tempfile.TemporaryDirectory() as directory:
        for storage in ("FileSystem", "Memory"):
            result = measure(moss_binary, Path(directory), storage, count)
            print(json.dumps(result))
            print(
                f"{storage:10}  live {result['live_per_s']:8.0f} msg/s   drain {result['drain_per_s']:8.0f} msg/s"
                f"   ({count} QoS 1 messages of 100 bytes, {moss_binary})"
            )


if __name__ == "__main__":
    main()
