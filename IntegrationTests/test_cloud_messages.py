"""Subscriptions to and from `cloud` (issue 8) with mosquitto playing AWS IoT over mutual TLS.

Messages a device publishes on a route to `cloud` go through the spooler to the cloud at QoS 1; messages the cloud
publishes on a route from `cloud` reach the route's device. While the cloud is away the spooler keeps messages in
order, within its bound (beyond it the oldest are dropped and counted), and with FileSystem storage across a kill -9.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sqlite3
from pathlib import Path

import pytest

from broker_helpers import PahoClient
from cloud_helpers import cloud, cloud_status, deploy, moss_status  # noqa: F401 (fixture)
from conftest import wait_until

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
  - id: down
    source: cloud
    subject: commands/sensor/#
    target: device:sensor
  - id: shadow-up
    source: shadow
    subject: $aws/things/sensor/shadow/update/accepted
    target: cloud
"""


def sensor(moss) -> PahoClient:
    client = PahoClient(moss.mqtt_port, client_id="sensor", version=4)
    client.connect()
    return client


def connected(moss) -> bool:
    return cloud_status(moss)["connection"]["state"] == "connected"


def spooled_rows(moss) -> int:
    """Rows of the spool table, read from the database file itself (WAL lets a reader in beside the daemon)."""
    with sqlite3.connect(f"file:{moss.data_dir / 'moss.sqlite'}?mode=ro", uri=True) as db:
        return db.execute("SELECT COUNT(*) FROM cloud_spool").fetchone()[0]


@pytest.fixture
def moss(cloud, moss_binary: Path, tmp_path: Path):
    daemon = cloud.start_moss(moss_binary, tmp_path / "data")
    try:
        deploy(daemon, tmp_path / "group.yaml", GROUP)
        wait_until(lambda: connected(daemon), "Moss is connected to the cloud", timeout=20)
        yield daemon
    finally:
        if daemon.process.poll() is None:
            assert daemon.stop() == 0, daemon.log()


def test_messages_go_to_the_cloud_and_come_back_by_the_groups_routes(cloud, moss):
    app = cloud.app()
    app.subscribe("telemetry/#", qos=1)
    device = sensor(moss)
    wait_until(lambda: cloud_status(moss)["connection"]["subscriptions"] == 1, "the cloud route is subscribed")
    try:
        device.publish("telemetry/temperature", b"21.5", qos=1)
        received = app.next_message(timeout=10)
        assert (received.topic, received.payload, received.qos) == ("telemetry/temperature", b"21.5", 1)

        device.subscribe("commands/sensor/#", qos=1)
        app.publish("commands/sensor/interval", b"5", qos=1)
        command = device.next_message(timeout=10)
        assert (command.topic, command.payload) == ("commands/sensor/interval", b"5")

        # Only what the routes allow: the cloud's other topics do not reach the device.
        app.publish("commands/other/interval", b"6", qos=1)
        app.publish("commands/sensor/again", b"7", qos=1)
        assert device.next_message(timeout=10).payload == b"7"
        status = cloud_status(moss)
        assert status["spool"]["delivered"] == 1 and status["spool"]["depth"] == 0

        # The local shadow service's messages reach the cloud by a route from it too.
        app.subscribe("$aws/things/sensor/shadow/update/accepted", qos=1)
        assert moss.moss("shadow", "update", "sensor", '{"state":{"reported":{"on":true}}}').returncode == 0
        accepted = app.next_message(timeout=10)
        assert accepted.topic == "$aws/things/sensor/shadow/update/accepted"
        assert json.loads(accepted.payload)["state"] == {"reported": {"on": True}}
    finally:
        device.close()


def test_an_outage_loses_nothing_within_the_bound_and_keeps_the_order(cloud, moss):
    # A persistent session at the cloud: mosquitto queues for the application while it is away too.
    app = cloud.app("cloud-app", clean=False)
    app.subscribe("telemetry/#", qos=1)
    app.close()
    cloud.mosquitto.stop()
    wait_until(lambda: not connected(moss), "Moss notices the cloud is gone")
    device = sensor(moss)
    try:
        for index in range(200):
            device.publish(f"telemetry/{index % 3}", f"m{index}".encode(), qos=1)
        wait_until(lambda: cloud_status(moss)["spool"]["depth"] == 200, "200 messages are spooled")
        cloud.mosquitto.start()
        app = cloud.app("cloud-app", clean=False)
        payloads = [message.payload.decode() for message in app.receive(200, timeout=30)]
        # At least once: a message in flight when the connection dropped may come twice; none is missing or reordered.
        first_seen = list(dict.fromkeys(payloads))
        assert first_seen == [f"m{index}" for index in range(200)]
        wait_until(lambda: cloud_status(moss)["spool"]["depth"] == 0, "the spool is empty")
        assert cloud_status(moss)["spool"]["dropped"] == 0
    finally:
        device.close()


def test_beyond_the_bound_the_oldest_are_dropped_and_counted(cloud, moss_binary, tmp_path):
    daemon = cloud.start_moss(moss_binary, tmp_path / "data", spooler={"maximumBytes": 262144})
    try:
        deploy(daemon, tmp_path / "group.yaml", GROUP)
        wait_until(lambda: connected(daemon), "Moss is connected to the cloud", timeout=20)
        app = cloud.app("cloud-app", clean=False)
        app.subscribe("telemetry/#", qos=1)
        app.close()
        cloud.mosquitto.stop()
        wait_until(lambda: not connected(daemon), "Moss notices the cloud is gone")
        device = sensor(daemon)
        payload = b"x" * 10_000  # plus the topic: 10 012 bytes a message, so 26 fit in 262 144
        for index in range(40):
            device.publish(f"telemetry/{index:02d}", payload, qos=1)
        device.close()
        wait_until(lambda: cloud_status(daemon)["spool"]["dropped"] == 14, "the 14 oldest are dropped")
        spool = cloud_status(daemon)["spool"]
        assert spool["depth"] == 26 and spool["bytes"] <= 262144
        assert "Spool full: dropped the oldest message for the cloud" in daemon.log()

        cloud.mosquitto.start()
        app = cloud.app("cloud-app", clean=False)
        topics = list(dict.fromkeys(message.topic for message in app.receive(26, timeout=30)))
        assert topics == [f"telemetry/{index:02d}" for index in range(14, 40)]
    finally:
        if daemon.process.poll() is None:
            assert daemon.stop() == 0, daemon.log()


def test_acknowledged_messages_survive_kill_9_and_are_delivered_after_restart(cloud, moss_binary, tmp_path):
    data = tmp_path / "data"
    daemon = cloud.start_moss(moss_binary, data)
    restarted = None
    try:
        deploy(daemon, tmp_path / "group.yaml", GROUP)
        wait_until(lambda: connected(daemon), "Moss is connected to the cloud", timeout=20)
        app = cloud.app("cloud-app", clean=False)
        app.subscribe("telemetry/#", qos=1)
        app.close()
        cloud.mosquitto.stop()
        wait_until(lambda: not connected(daemon), "Moss notices the cloud is gone")
        device = sensor(daemon)
        for index in range(20):
            device.publish("telemetry/t", f"k{index}".encode(), qos=1)  # returns once the PUBACK came
        # Killed the moment the last PUBACK came: an acknowledged message is already in the spool table.
        daemon.stop(signal.SIGKILL)
        device.close()
        assert spooled_rows(daemon) == 20

        cloud.mosquitto.start()
        app = cloud.app("cloud-app", clean=False)
        restarted = cloud.start_moss(moss_binary, data)
        payloads = list(dict.fromkeys(message.payload.decode() for message in app.receive(20, timeout=30)))
        assert payloads == [f"k{index}" for index in range(20)]
        wait_until(lambda: spooled_rows(restarted) == 0, "the delivered messages leave the spool table")
    finally:
        for process in (daemon, restarted):
            if process and process.process.poll() is None:
                assert process.stop() == 0, process.log()


def test_without_a_cloud_configured_routes_to_it_are_undeliverable(moss_daemon, tmp_path):
    deploy(moss_daemon, tmp_path / "group.yaml", GROUP)
    device = sensor(moss_daemon)
    try:
        device.publish("telemetry/t", b"1", qos=1)
        status = wait_until(
            lambda: (s := moss_status(moss_daemon))["routing"]["undeliverable"] == 1 and s,
            "the message is counted as undeliverable",
        )
        assert "cloud" not in status
    finally:
        device.close()



def test_an_unusable_certificate_stops_moss_naming_the_key(cloud, moss_binary, tmp_path):
    not_a_certificate = tmp_path / "core.pem"
    not_a_certificate.write_text("hello\n")
    config = tmp_path / "moss.yaml"
    config.write_text(cloud.config(certificate=str(not_a_certificate)))
    result = subprocess.run(
        [str(moss_binary), "run", "--config", str(config), "--data-dir", str(tmp_path / "data"), "--mqtt-port", "0", "--mqtts-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "cloud.certificate" in result.stderr + result.stdout and str(not_a_certificate) in result.stderr + result.stdout


def test_a_silent_cloud_is_noticed_by_the_keep_alive_and_the_connection_made_again(cloud, moss):
    # mosquitto frozen: the TCP connection stays open but nothing answers; keepAliveSeconds is 5 in these tests.
    cloud.mosquitto.process.send_signal(signal.SIGSTOP)
    try:
        status = wait_until(
            lambda: (s := cloud_status(moss)["connection"])["state"] != "connected" and s,
            "Moss gives up on the silent connection",
            timeout=20,
        )
        assert "timed out" in status["lastError"]
    finally:
        cloud.mosquitto.process.send_signal(signal.SIGCONT)
    wait_until(lambda: connected(moss), "Moss connects again", timeout=20)
    assert cloud_status(moss)["connection"]["connections"] >= 2


def test_alpn_names_aws_iots_mqtt_protocol_when_asked(cloud, moss_binary, tmp_path):
    """AWS IoT takes MQTT on 443 only with ALPN x-amzn-mqtt-ca; a TLS endpoint of the test's own records what came."""
    import ssl
    import threading

    certs = cloud.directory / "certs"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(certs / "server.pem"), str(certs / "server.key"))
    context.load_verify_locations(str(cloud.ca))
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["x-amzn-mqtt-ca"])
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    seen: list[str | None] = []

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(connection, server_side=True) as tls:
                    seen.append(tls.selected_alpn_protocol())
            except (OSError, ssl.SSLError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    daemon = cloud.start_moss(moss_binary, tmp_path / "data", port=listener.getsockname()[1], alpn="true", clientId="gateway")
    try:
        wait_until(lambda: seen, "Moss opens a TLS connection", timeout=20)
        assert seen[0] == "x-amzn-mqtt-ca"
    finally:
        listener.close()
        assert daemon.stop() == 0, daemon.log()
