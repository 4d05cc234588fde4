"""Shadow sync (issue 8): moto_server is AWS IoT's data plane, mosquitto its MQTT side.

Local changes reach the cloud shadow through UpdateThingShadow / DeleteThingShadow; cloud changes come back through
`/update/accepted` and `/delete/accepted` (published here exactly as AWS IoT publishes them, since mosquitto has no
shadow service) and a full comparison after every reconnect; changes on both sides while offline are merged three
ways: reported keeps the local value, desired the cloud's (docs/shadows.md, "Sync with the cloud").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloud_helpers import cloud, cloud_status, deploy  # noqa: F401 (fixture)
from conftest import wait_until

GROUP = """\
core:
  thingName: gateway
devices:
  - thingName: sensor
    syncShadow: true
    namedShadows: [config]
  - thingName: panel
    syncShadow: true
    syncDirection: deviceToCloud
"""


def local_shadow(moss, thing: str, name: str | None = None) -> dict | None:
    result = moss.moss("shadow", "get", thing, *(["--name", name] if name else []), "--json")
    return json.loads(result.stdout) if result.returncode == 0 else None


def local_update(moss, thing: str, state: dict, name: str | None = None) -> dict:
    result = moss.moss("shadow", "update", thing, json.dumps({"state": state}), *(["--name", name] if name else []), "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def state_of(document: dict | None) -> dict | None:
    """desired and reported only (the sync's business), or None when there is no shadow."""
    if document is None:
        return None
    return {key: value for key, value in document["state"].items() if key in ("desired", "reported")}


def sync_states(moss) -> dict:
    return {(s["thing"], s.get("name")): s for s in cloud_status(moss)["shadowSync"]}


@pytest.fixture
def moss(cloud, moss_binary: Path, tmp_path: Path):
    for thing in ("gateway", "sensor", "panel"):
        cloud.moto.create_thing(thing)
    daemon = cloud.start_moss(moss_binary, tmp_path / "data")
    try:
        deploy(daemon, tmp_path / "group.yaml", GROUP)
        wait_until(lambda: cloud_status(daemon)["connection"]["state"] == "connected", "connected to the cloud", timeout=20)
        wait_until(
            lambda: all(s["state"] == "synced" for s in sync_states(daemon).values()) and len(sync_states(daemon)) == 3,
            "the three shadows are compared with the cloud",
        )
        yield daemon
    finally:
        if daemon.process.poll() is None:
            assert daemon.stop() == 0, daemon.log()


def test_a_local_update_appears_in_the_cloud_shadow(cloud, moss):
    local_update(moss, "sensor", {"reported": {"temperature": 21.5, "humidity": 40}})
    wait_until(
        lambda: state_of(cloud.moto.shadow("sensor")) == {"reported": {"temperature": 21.5, "humidity": 40}},
        "the cloud shadow has the reading",
    )
    local_update(moss, "sensor", {"reported": {"temperature": 22}})
    wait_until(
        lambda: state_of(cloud.moto.shadow("sensor")) == {"reported": {"temperature": 22, "humidity": 40}},
        "the cloud shadow has the second reading",
    )
    # Named shadows listed in the group sync too; others stay local.
    local_update(moss, "sensor", {"desired": {"interval": 10}}, name="config")
    local_update(moss, "sensor", {"desired": {"colour": "red"}}, name="unlisted")
    wait_until(lambda: state_of(cloud.moto.shadow("sensor", "config")) == {"desired": {"interval": 10}}, "the named shadow syncs")
    assert cloud.moto.shadow("sensor", "unlisted") is None
    # The sync's own write comes back as the cloud's /update/accepted; it is recognised, not applied again.
    cloud_version = cloud.moto.shadow("sensor")["version"]
    local_version = local_shadow(moss, "sensor")["version"]
    status = sync_states(moss)[("sensor", None)]
    assert (status["cloudVersion"], status["localVersion"]) == (cloud_version, local_version)
    # `moss status` in words: the connection, the spool and a line per synced shadow.
    text = moss.moss("status", check=True).stdout
    assert "Cloud: connected to 127.0.0.1:" in text and "Spool: 0 messages" in text
    row = next(line.split() for line in text.splitlines() if line.split()[:2] == ["sensor", "(classic)"])
    assert row[2:6] == ["both", "synced", str(local_version), str(cloud_version)]


def test_a_desired_change_in_the_cloud_arrives_locally_with_its_delta(cloud, moss):
    local_update(moss, "sensor", {"reported": {"interval": 60}})
    wait_until(lambda: cloud.moto.shadow("sensor") is not None, "the shadow is in the cloud")
    cloud.update_shadow("sensor", {"desired": {"interval": 5}})
    document = wait_until(
        lambda: (d := local_shadow(moss, "sensor")) and "delta" in d["state"] and d,
        "the desired change arrives locally",
    )
    assert document["state"]["desired"] == {"interval": 5}
    assert document["state"]["delta"] == {"interval": 5}
    assert document["state"]["reported"] == {"interval": 60}
    # Nothing is echoed back: the cloud's version is still the one the change made.
    assert sync_states(moss)[("sensor", None)]["cloudVersion"] == cloud.moto.shadow("sensor")["version"]

    # deviceToCloud: the local shadow is the truth; a change made in the cloud never arrives locally and is
    # overwritten by the next local change.
    local_update(moss, "panel", {"reported": {"on": True}})
    wait_until(lambda: cloud.moto.shadow("panel") is not None, "the panel's shadow is in the cloud")
    cloud.update_shadow("panel", {"desired": {"on": False}})
    local_update(moss, "panel", {"reported": {"brightness": 3}})
    wait_until(
        lambda: state_of(cloud.moto.shadow("panel")) == {"reported": {"on": True, "brightness": 3}},
        "the panel's cloud shadow is the local one",
    )
    assert state_of(local_shadow(moss, "panel")) == {"reported": {"on": True, "brightness": 3}}


def test_deletes_propagate_both_ways(cloud, moss):
    local_update(moss, "sensor", {"reported": {"t": 1}})
    wait_until(lambda: cloud.moto.shadow("sensor") is not None, "the shadow is in the cloud")
    assert moss.moss("shadow", "delete", "sensor").returncode == 0
    wait_until(lambda: cloud.moto.shadow("sensor") is None, "the cloud shadow is deleted")

    local_update(moss, "sensor", {"reported": {"t": 2}}, name="config")
    wait_until(lambda: cloud.moto.shadow("sensor", "config") is not None, "the named shadow is in the cloud")
    cloud.delete_shadow("sensor", "config")
    wait_until(lambda: local_shadow(moss, "sensor", "config") is None, "the local named shadow is deleted")


def test_changes_on_both_sides_while_offline_are_merged_on_reconnect(cloud, moss):
    local_update(moss, "sensor", {"desired": {"a": 1, "b": 1}, "reported": {"t": 1, "u": 1}})
    wait_until(
        lambda: state_of(cloud.moto.shadow("sensor")) == {"desired": {"a": 1, "b": 1}, "reported": {"t": 1, "u": 1}},
        "the first state is in the cloud",
    )
    # Offline: the MQTT endpoint and the data plane are both unreachable.
    cloud.mosquitto.stop()
    cloud.gate.close_gate()
    wait_until(lambda: cloud_status(moss)["connection"]["state"] != "connected", "Moss notices the cloud is gone")

    local_update(moss, "sensor", {"desired": {"a": 2}, "reported": {"t": 2}})
    wait_until(lambda: sync_states(moss)[("sensor", None)]["state"] == "retrying", "the local change waits for the cloud")
    cloud.moto.data.update_thing_shadow(
        thingName="sensor", payload=json.dumps({"state": {"desired": {"a": 3, "b": 3}, "reported": {"t": 3, "u": 3}}}).encode()
    )

    cloud.gate.open_gate()
    cloud.mosquitto.start()
    merged = {"desired": {"a": 3, "b": 3}, "reported": {"t": 2, "u": 3}}
    wait_until(lambda: state_of(cloud.moto.shadow("sensor")) == merged, "the cloud has the merged shadow", timeout=30)
    wait_until(lambda: state_of(local_shadow(moss, "sensor")) == merged, "the local shadow is the merged one", timeout=30)
    wait_until(lambda: sync_states(moss)[("sensor", None)]["state"] == "synced", "the shadow is synced again")


def test_the_data_plane_over_mutual_tls_with_the_core_certificate(cloud, moss_binary, tmp_path):
    """The default authentication: no AWS credentials, the core's certificate on an HTTPS endpoint (AWS IoT's 8443)."""
    from cloud_helpers import TLSDataPlane

    cloud.moto.create_thing("sensor")
    plane = TLSDataPlane(cloud.moto.port, cloud.ca, cloud.directory / "certs" / "server.pem", cloud.directory / "certs" / "server.key")
    daemon = cloud.start_moss(
        moss_binary,
        tmp_path / "data",
        dataPlane={"authentication": "mutualTLS", "endpoint": f"https://127.0.0.1:{plane.port}"},
    )
    try:
        deploy(daemon, tmp_path / "group.yaml", "core:\n  thingName: gateway\ndevices:\n  - thingName: sensor\n    syncShadow: true\n")
        local_update(daemon, "sensor", {"reported": {"temperature": 19}})
        wait_until(lambda: state_of(cloud.moto.shadow("sensor")) == {"reported": {"temperature": 19}}, "the reading is in the cloud")
        assert plane.clients and set(plane.clients) == {"gateway"} and not plane.signed
    finally:
        plane.stop()
        if daemon.process.poll() is None:
            assert daemon.stop() == 0, daemon.log()


def test_without_credentials_sigv4_sync_is_off_and_says_why(cloud, moss_binary, tmp_path, monkeypatch):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws either
    daemon = cloud.start_moss(moss_binary, tmp_path / "data")
    try:
        status = cloud_status(daemon)
        assert "no AWS credentials for SigV4" in status["shadowSyncProblem"] and status["shadowSync"] == []
        assert "Shadow sync: off, no AWS credentials for SigV4" in daemon.moss("status", check=True).stdout
        assert "Shadow sync is off" in daemon.log()
        # Messages still flow: only the sync needs the data plane.
        wait_until(lambda: cloud_status(daemon)["connection"]["state"] in ("connected", "waitingForClientID"), "the client runs")
    finally:
        assert daemon.stop() == 0, daemon.log()
