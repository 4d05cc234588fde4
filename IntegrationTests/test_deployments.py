"""Group deployments and the router (issue 4) on the real daemon, with raw MQTT clients.

A group is deployed with `moss deploy`; from then on only its devices connect, a device publishes only where it is
a subscription's source and subscribes only where it is a target, shadow requests reach the shadow service and its
replies reach devices only through subscriptions. A broken group file changes nothing; redeploying an unchanged
group is a no-op; `moss rollback` returns to an earlier group; `moss reset` makes Moss an ordinary broker again and
deletes the shadows; a restart keeps what was deployed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broker_helpers import Clients, tls_context
from conftest import REPOSITORY, start_moss, wait_until
from moto_helpers import Moto, use_test_credentials, zipped

GROUP = """\
core:
  thingName: gateway
devices:
  - thingName: sensor
  - thingName: panel
subscriptions:
  - id: readings
    source: device:sensor
    subject: bme680/readings
    target: device:panel
  - id: shadow-update
    source: device:sensor
    subject: $aws/things/sensor/shadow/update
    target: shadow
  - id: shadow-replies
    source: shadow
    subject: $aws/things/sensor/shadow/update/+
    target: device:sensor
"""

# The same group with one more route: panel may also publish acknowledgements to the sensor.
GROUP_V2 = GROUP + """\
  - id: acks
    source: device:panel
    subject: acks/+
    target: device:sensor
"""

BROKEN = """\
core:
  thingName: gateway
devices:
  - thingName: sensor
subscriptions:
  - id: readings
    source: device:nobody
    subject: bme680/#/readings
    target: device:sensor
  - id: readings
    source: device:sensor
    subject: a
    target: cloud
"""


@pytest.fixture
def daemon(moss_binary, tmp_path):
    moss = start_moss(moss_binary, tmp_path / "data")
    yield moss
    assert moss.stop() == 0, moss.log()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def deploy(moss, path: Path, *extra: str):
    return moss.moss("deploy", str(path), "--json", *extra)


def status(moss) -> dict:
    result = moss.moss("status", "--json", check=True)
    return json.loads(result.stdout)


def test_a_deployed_group_is_enforced_and_reset_lifts_it(daemon, tmp_path):
    clients = Clients(daemon.mqtt_port)
    try:
        # With no group, anyone may do anything.
        stranger = clients.connected(5, client_id="stranger")
        assert stranger.subscribe(("anything/#", 1)).codes == [1]
        stranger.close()

        result = deploy(daemon, write(tmp_path, "group.yaml", GROUP))
        assert result.returncode == 0, result.stderr
        record = json.loads(result.stdout)
        assert record["status"] == "Success" and record["kind"] == "deploy" and not record["unchanged"]
        group = status(daemon)["group"]
        assert group["devices"] == 2 and group["subscriptions"] == 3 and group["coreThing"] == "gateway"

        # Only the group's devices connect (CONNACK 0x87 not authorized).
        clients.raw(5).connect("stranger", expect_code=0x87)

        panel = clients.connected(5, client_id="panel")
        sensor = clients.connected(5, client_id="sensor")
        # A device subscribes only where it is a target.
        assert panel.subscribe(("bme680/readings", 1), ("$aws/things/sensor/shadow/#", 1)).codes == [1, 0x87]
        assert sensor.subscribe(("$aws/things/sensor/shadow/update/accepted", 1), ("bme680/#", 1)).codes == [1, 0x87]
        # A device publishes only where it is a source (PUBACK 0x87 in MQTT 5).
        assert sensor.publish("bme680/readings", b'{"t":21}', qos=1).code == 0
        assert panel.expect_publish(topic="bme680/readings").payload == b'{"t":21}'
        assert panel.publish("bme680/readings", b"spoof", qos=1).code == 0x87
        sensor.assert_quiet()

        # Shadow traffic follows the subscriptions: sensor → GGShadowService → sensor.
        sensor.publish("$aws/things/sensor/shadow/update", b'{"state":{"reported":{"t":21}}}', qos=1)
        accepted = sensor.expect_publish(topic="$aws/things/sensor/shadow/update/accepted")
        assert json.loads(accepted.payload)["version"] == 1
        # panel is no source towards the shadow service: its request is refused and never applied.
        assert panel.publish("$aws/things/sensor/shadow/update", b'{"state":{"reported":{"t":0}}}', qos=1).code == 0x87
        shadow = json.loads(daemon.moss("shadow", "get", "sensor", "--json", check=True).stdout)
        assert shadow["state"]["reported"] == {"t": 21} and shadow["version"] == 1

        # Reset: an ordinary broker again, and no shadows.
        result = daemon.moss("reset", "--yes", "--json")
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["kind"] == "reset"
        assert "group" not in status(daemon)
        clients.connected(5, client_id="stranger")
        assert daemon.moss("shadow", "get", "sensor").returncode != 0
    finally:
        clients.close_all()


def test_a_broken_group_changes_nothing_and_names_every_error(daemon, tmp_path):
    assert deploy(daemon, write(tmp_path, "group.yaml", GROUP)).returncode == 0
    before = status(daemon)["group"]

    result = daemon.moss("deploy", str(write(tmp_path, "broken.yaml", BROKEN)))
    assert result.returncode != 0
    # Every error, each with the file and line.
    assert "broken.yaml:7" in result.stderr and "nobody" in result.stderr
    assert "broken.yaml:8" in result.stderr and "bme680/#/readings" in result.stderr
    assert "broken.yaml:10" in result.stderr
    assert status(daemon)["group"] == before

    history = json.loads(daemon.moss("deployments", "--json", check=True).stdout)
    assert [d["status"] for d in history] == ["Success", "Failure"]
    assert any("nobody" in detail["detailedErrorMessage"] for detail in history[1]["errorDetails"])


def test_redeploy_is_a_no_op_and_rollback_returns_to_the_previous_group(daemon, tmp_path):
    first = json.loads(deploy(daemon, write(tmp_path, "group.yaml", GROUP)).stdout)
    # Its duration is measured by scripts/bench/deploy.sh, not asserted here.
    again = json.loads(deploy(daemon, tmp_path / "group.yaml").stdout)
    assert again["status"] == "Success" and again["unchanged"] and again["groupDigest"] == first["groupDigest"]

    second = json.loads(deploy(daemon, write(tmp_path, "group-v2.yaml", GROUP_V2)).stdout)
    assert second["status"] == "Success" and second["groupDigest"] != first["groupDigest"]
    assert status(daemon)["group"]["subscriptions"] == 4

    back = json.loads(daemon.moss("rollback", "--json", check=True).stdout)
    assert back["kind"] == "rollback" and back["groupDigest"] == first["groupDigest"]
    assert status(daemon)["group"]["subscriptions"] == 3

    forward = json.loads(daemon.moss("rollback", second["id"], "--json", check=True).stdout)
    assert forward["groupDigest"] == second["groupDigest"]

    missing = daemon.moss("rollback", "no-such-id")
    assert missing.returncode != 0 and "no-such-id" in missing.stderr


def test_a_restart_keeps_the_deployed_group_and_its_history(moss_binary, tmp_path):
    data = tmp_path / "data"
    moss = start_moss(moss_binary, data)
    try:
        first = json.loads(deploy(moss, write(tmp_path, "group-v2.yaml", GROUP_V2)).stdout)
        assert moss.moss("deploy", str(write(tmp_path, "broken.yaml", BROKEN))).returncode != 0
        assert deploy(moss, write(tmp_path, "group.yaml", GROUP)).returncode == 0
        digest = status(moss)["group"]["groupDigest"]
    finally:
        assert moss.stop() == 0
    (data / "ports.json").unlink(missing_ok=True)
    moss = start_moss(moss_binary, data)
    clients = Clients(moss.mqtt_port)
    try:
        assert status(moss)["group"]["groupDigest"] == digest
        clients.raw(5).connect("stranger", expect_code=0x87)
        panel = clients.connected(5, client_id="panel")
        assert panel.publish("bme680/readings", b"x", qos=1).code == 0x87
        assert panel.publish("acks/1", b"x", qos=1).code == 0x87
        # Rolling back after the restart returns to the group before the current one.
        back = json.loads(moss.moss("rollback", "--json", check=True).stdout)
        assert back["groupDigest"] == first["groupDigest"]
        assert panel.publish("acks/1", b"x", qos=1).code == 0
        history = json.loads(moss.moss("deployments", "--json", check=True).stdout)
        assert [(d["kind"], d["status"]) for d in history] == [
            ("deploy", "Success"), ("deploy", "Failure"), ("deploy", "Success"), ("rollback", "Success")
        ]
    finally:
        clients.close_all()
        assert moss.stop() == 0


def test_on_tls_devices_are_the_certificates_the_group_names(moss_tls_daemon, tmp_path):
    """sensor-1 is known by its certificate's CN; `panel` by a certificate (CN panel-cert) the group names."""
    moss = moss_tls_daemon
    for thing in ("panel-cert", "stranger"):
        moss.moss("certs", "device", thing, check=True)
    panel_pem, panel_key = moss.certificates.device("panel-cert")
    group = write(
        tmp_path,
        "group.yaml",
        f"""\
core:
  thingName: gateway
devices:
  - thingName: sensor-1
  - thingName: panel
    certificate: {panel_pem}
subscriptions:
  - id: readings
    source: device:sensor-1
    subject: t/x
    target: device:panel
""",
    )
    result = deploy(moss, group)
    assert result.returncode == 0, result.stderr

    def tls(thing: str):
        certificate, key = moss.certificates.device(thing)
        return tls_context(moss.certificates.ca, certificate, key)

    clients = Clients(moss.mqtt_port, moss.mqtts_port)
    try:
        clients.raw(5, port=moss.mqtts_port, tls=tls("stranger")).connect("c1", expect_code=0x87)
        panel = clients.raw(5, port=moss.mqtts_port, tls=tls("panel-cert"))
        panel.connect("c2")
        assert panel.subscribe(("t/x", 1)).codes == [1]
        sensor = clients.raw(5, port=moss.mqtts_port, tls=tls("sensor-1"))
        sensor.connect("c3")
        assert sensor.publish("t/x", b"hello", qos=1).code == 0
        assert panel.expect_publish(topic="t/x").payload == b"hello"
        # panel is the source of no subscription: its publish is refused.
        assert panel.publish("t/x", b"spoof", qos=1).code == 0x87
    finally:
        clients.close_all()

    # A certificate file that is not a certificate fails the deployment at staging; nothing changes.
    before = status(moss)["group"]
    broken = tmp_path / "not-a-cert.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    result = moss.moss("deploy", str(write(tmp_path, "bad-cert.yaml", group.read_text().replace(str(panel_pem), str(broken)))))
    assert result.returncode != 0
    assert "not-a-cert.pem" in result.stderr
    assert status(moss)["group"] == before


@pytest.fixture
def tutorial_daemon(moss_binary, tmp_path, monkeypatch):
    """A daemon whose S3 is moto, holding the tutorial's two models in the bucket the example group names."""
    moto = Moto(tmp_path)
    try:
        use_test_credentials(monkeypatch, tmp_path)
        s3 = moto.client("s3")
        s3.create_bucket(Bucket="rain-greengrass-models")
        seed_models = REPOSITORY.parent / "shared" / "seed-models"
        for model in ("standardiser", "rain_predictor"):
            package = seed_models / f"{model}.zip"
            body = package.read_bytes() if package.exists() else zipped({"saved_model.pb": b"stand-in"})
            s3.put_object(Bucket="rain-greengrass-models", Key=f"{model}.zip", Body=body)
        (tmp_path / "moss.yaml").write_text(f"resources:\n  s3Endpoint: {moto.url}\n")
        moss = start_moss(moss_binary, tmp_path / "data", "--config", str(tmp_path / "moss.yaml"))
        yield moss
        assert moss.stop() == 0, moss.log()
    finally:
        moto.stop()


def test_the_tutorial_group_deploys_and_is_enforced(tutorial_daemon):
    daemon = tutorial_daemon
    example = Path(__file__).resolve().parent.parent / "docs" / "examples" / "rain-group.yaml"
    result = deploy(daemon, example)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["status"] == "Success"
    group = status(daemon)["group"]
    assert (group["devices"], group["functions"], group["resources"]) == (1, 2, 2)

    clients = Clients(daemon.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="bme680-sensor")
        assert sensor.subscribe(("$aws/things/bme680-sensor/shadow/update/accepted", 1)).codes == [1]
        # The reading is allowed: its route leads to the function repub, which gets it as an invocation.
        reading = b'{"temperature": 21.5, "humidity": 60, "pressure": 1012}'
        assert sensor.publish("bme680/readings", reading, qos=1).code == 0
        assert sensor.publish("bme680/other", reading, qos=1).code == 0x87
        sensor.publish("$aws/things/bme680-sensor/shadow/update", b'{"state":{"reported":{"temperature":21.5}}}', qos=1)
        accepted = sensor.expect_publish(topic="$aws/things/bme680-sensor/shadow/update/accepted")
        assert json.loads(accepted.payload)["state"]["reported"] == {"temperature": 21.5}
        # Another device's shadow is outside the sensor's subscriptions.
        assert sensor.publish("$aws/things/other/shadow/update", b"{}", qos=1).code == 0x87
        routing = status(daemon)["routing"]
        assert routing["undeliverable"] == 0 and routing["refused"] == 2
        wait_until(lambda: "function:repub" in daemon.log() and "Worker started" in daemon.log(), "repub gets a worker")
        assert status(daemon)["groupDevicesConnected"] == 1
    finally:
        clients.close_all()


def test_wildcard_routes_and_cloud_targets(daemon, tmp_path):
    group = write(
        tmp_path,
        "group.yaml",
        """\
core:
  thingName: gateway
devices:
  - thingName: sensor
  - thingName: panel
subscriptions:
  - id: telemetry
    source: device:sensor
    subject: telemetry/+/temperature
    target: cloud
  - id: alerts
    source: device:sensor
    subject: alerts/#
    target: device:panel
""",
    )
    result = deploy(daemon, group)
    assert result.returncode == 0, result.stderr
    # With no cloud configured, the deployment warns that cloud routes lead nowhere.
    assert any("cloud" in warning for warning in json.loads(result.stdout)["warnings"])
    clients = Clients(daemon.mqtt_port)
    try:
        panel = clients.connected(5, client_id="panel")
        sensor = clients.connected(5, client_id="sensor")
        assert panel.subscribe(("alerts/#", 1), ("alerts/fire/kitchen", 1), ("telemetry/#", 1)).codes == [1, 1, 0x87]
        assert sensor.publish("alerts/fire/kitchen", b"!", qos=1).code == 0
        # Overlapping subscriptions of one session: one copy.
        assert panel.expect_publish(topic="alerts/fire/kitchen").payload == b"!"
        panel.assert_quiet()
        assert sensor.publish("telemetry/room1/temperature", b"21", qos=1).code == 0
        assert sensor.publish("telemetry/room1/humidity", b"60", qos=1).code == 0x87
        assert status(daemon)["routing"]["undeliverable"] == 1
    finally:
        clients.close_all()
