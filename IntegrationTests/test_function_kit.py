"""Swift functions on the real daemon (issue 5): executables built with MossFunctionKit, deployed as `runtime:
executable` functions. A paho device's reading runs the Republisher example (Examples/Republisher), whose publish
reaches the device through a subscription and whose shadow update lands; the probe function
(IntegrationTests/FunctionKitProbe) does shadow get/update/delete (classic and named) with AWS's error codes, invokes
the Republisher and gets its result or its Handled error, and publishes where no subscription leads, which nobody sees.
Both run without a container, and in a GreengrassContainer (code at /lambda) when the tests run as root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from broker_helpers import Clients
from conftest import start_moss, wait_until

READING = {"temperature": 25.0, "humidity": 40.5, "pressure": 1009.3, "message": "reading 1"}
# What the container's thermal zone says (a local volume at /sys/class/thermal): 45 °C.
CONTAINER_CPU_MILLIDEGREES = 45000

ISOLATION_MODES = [
    "NoContainer",
    pytest.param(
        "GreengrassContainer",
        marks=pytest.mark.skipif(os.geteuid() != 0, reason="container mode needs root (mount namespaces)"),
    ),
]


@pytest.fixture(scope="session")
def kit_binaries(moss_binary: Path) -> Path:
    """The directory with the Republisher and FunctionKitProbe executables `swift build` made beside `moss`."""
    directory = moss_binary.parent
    for name in ("Republisher", "FunctionKitProbe"):
        if not (directory / name).exists():
            pytest.fail(f"{directory / name} does not exist; run `swift build` first (scripts/test.sh does)")
    return directory


def group_yaml(isolation: str, thermal: Path, pinned_probe: bool = False) -> str:
    contained = isolation == "GreengrassContainer"
    # In a container the function sees a thermal zone from a local volume; without one, whatever the host has.
    container_keys = (
        "    accessSysfs: true\n    resourceAccessPolicies:\n      - resourceId: thermal\n        permission: ro\n"
        if contained
        else ""
    )
    resources = (
        f"resources:\n  - id: thermal\n    name: thermal\n    localVolume:\n      sourcePath: {thermal}\n"
        "      destinationPath: /sys/class/thermal\n"
        if contained
        else ""
    )
    functions = "".join(
        f"""\
  - id: {name}
    name: {name}
    runtime: executable
    executable: {executable}
    code: {name}
    timeout: 20
    isolationMode: {isolation}
    pinned: {"true" if name == "probe" and pinned_probe else "false"}
    environment:
      variables:
        THING_NAME: sensor
{"        HEARTBEAT_TOPIC: probe/beat" + chr(10) if name == "probe" and pinned_probe else ""}{container_keys}"""
        for name, executable in (("repub", "Republisher"), ("probe", "FunctionKitProbe"))
    )
    return f"""\
core:
  thingName: gateway
devices:
  - thingName: sensor
functions:
{functions}{resources}subscriptions:
  - id: readings
    source: device:sensor
    subject: bme680/readings
    target: function:repub
  - id: compensated
    source: function:repub
    subject: bme680/compensated
    target: device:sensor
  - id: probe-in
    source: device:sensor
    subject: probe/in
    target: function:probe
  - id: probe-out
    source: function:probe
    subject: probe/+
    target: device:sensor
"""


def deploy(moss_binary: Path, kit_binaries: Path, workspace: Path, isolation: str, pinned_probe: bool = False):
    """A daemon with both Swift functions deployed from `workspace`, which every user can read: when the tests run
    as root, the functions run as Moss's unprivileged default user."""
    # The built executables are copied into each function's code directory, as a user deploys a binary.
    for name, executable in (("repub", "Republisher"), ("probe", "FunctionKitProbe")):
        (workspace / name).mkdir()
        shutil.copy2(kit_binaries / executable, workspace / name / executable)
    thermal = workspace / "thermal"
    (thermal / "thermal_zone0").mkdir(parents=True)
    (thermal / "thermal_zone0" / "temp").write_text(f"{CONTAINER_CPU_MILLIDEGREES}\n")
    (workspace / "group.yaml").write_text(group_yaml(isolation, thermal, pinned_probe))
    # Debug logs say when a worker reports `initialized`.
    moss = start_moss(moss_binary, workspace / "data", "--log-level", "debug")
    result = moss.moss("deploy", str(workspace / "group.yaml"))
    if result.returncode != 0:
        moss.stop()  # never leave a daemon behind a failed deployment
        pytest.fail(f"moss deploy failed:\n{result.stderr}")
    return moss


def stop(moss, workspace: Path):
    assert moss.stop() == 0, moss.log()
    # No worker outlives the daemon.
    assert running_from(workspace) == []


@pytest.fixture(params=ISOLATION_MODES)
def deployed(request, moss_binary, kit_binaries, workspace):
    """A daemon with both Swift functions deployed; yields (daemon, isolation mode)."""
    moss = deploy(moss_binary, kit_binaries, workspace, request.param)
    yield moss, request.param
    stop(moss, workspace)


def running_from(directory: Path) -> list[int]:
    """Processes whose command line names a path under `directory` (the functions' executables)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(directory).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def expected_compensation(isolation: str) -> dict:
    """The Republisher's output for READING: 2 × temperature − the CPU's, when it can read a CPU temperature."""
    if isolation == "GreengrassContainer":
        cpu = CONTAINER_CPU_MILLIDEGREES / 1000
    else:
        zone = Path("/sys/class/thermal/thermal_zone0/temp")
        cpu = float(zone.read_text().split()[0]) / 1000 if zone.exists() else None
    temperature = READING["temperature"] if cpu is None else 2 * READING["temperature"] - cpu
    return {**READING, "temperature": temperature}


def next_on(client, topic: str, timeout: float = 30):
    """The next message `client` gets on `topic`, passing over others (a pinned function's heartbeats)."""
    deadline = time.monotonic() + timeout
    while True:
        message = client.next_message(timeout=max(0.1, deadline - time.monotonic()))
        if message.topic == topic:
            return message


def reported_state(moss, thing: str, name: str | None = None):
    arguments = ["shadow", "get", thing, "--json"] + (["--name", name] if name else [])
    shown = moss.moss(*arguments)
    return json.loads(shown.stdout)["state"].get("reported") if shown.returncode == 0 else None


def test_a_device_reading_runs_the_swift_republisher(deployed):
    moss, isolation = deployed
    expected = expected_compensation(isolation)
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.paho(version=4, client_id="sensor")
        assert sensor.subscribe("bme680/compensated", qos=1) == [1]
        for n in range(3):
            sensor.publish("bme680/readings", json.dumps({**READING, "message": f"reading {n}"}), qos=1)
            message = sensor.next_message(timeout=30)
            assert message.topic == "bme680/compensated"
            assert json.loads(message.payload) == {**expected, "message": f"reading {n}"}
        # Each invocation updated the sensor's shadow; the third is the last.
        wait_until(
            lambda: reported_state(moss, "sensor") == {**expected, "message": "reading 2"},
            "the Republisher's shadow update lands",
            timeout=20,
        )
        # The worker reported `initialized`, and now waits for work (V1's health API on the IPC port).
        assert any(
            "Function initialized" in line and ":function:repub:" in line for line in moss.log().splitlines()
        ), moss.log()
        port = int(re.search(r"ipc\.port=(\d+)", moss.log()).group(1))

        def repub_state():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/2016-11-01/health/workers", timeout=10) as reply:
                workers = json.loads(reply.read())
            return {worker["FuncArn"].split(":")[6]: worker["WorkerState"] for worker in workers}["repub"]

        wait_until(lambda: repub_state() == "Waiting", "the Republisher's worker waits for work")
        assert "error" not in (moss.data_dir / "logs" / "functions" / "repub.log").read_text().lower()
    finally:
        clients.close_all()


def test_a_swift_function_uses_shadows_invokes_another_and_publishes_only_where_routed(deployed):
    moss, isolation = deployed
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.paho(version=4, client_id="sensor")
        # `probe/#` overlaps the route to the sensor (`probe/+`), so the broker grants it; `probe/unrouted/x`,
        # where the probe publishes first, has no route from the probe and must never arrive.
        assert sensor.subscribe("probe/#", qos=1) == [1]
        command = {
            "thing": "probe-thing",
            "invoke": "repub",
            "event": READING,
            "badEvent": {"temperature": "hot"},
        }
        sensor.publish("probe/in", json.dumps(command), qos=1)
        message = sensor.next_message(timeout=30)
        assert message.topic == "probe/out"
        report = json.loads(message.payload)

        assert report["subject"] == "probe/in" and report["functionName"] == "probe"
        assert 0 < report["remainingMilliseconds"] <= 20_000
        # update → get → (named) → delete, each the shadow service's document.
        assert report["updated"]["state"] == {"reported": {"probe": 1}} and report["updated"]["version"] == 1
        assert report["got"]["state"] == {"reported": {"probe": 1}} and report["got"]["version"] == 1
        assert report["named"]["state"] == {"reported": {"probe": 1}}
        assert report["deleted"]["version"] == 1
        # AWS's error documents became ShadowError with their codes.
        assert report["missing"]["code"] == 404 and "probe-thing" in report["missing"]["message"]
        assert report["invalid"]["code"] == 400 and report["invalid"]["message"]
        # Function to function: the Republisher's result, then its Handled error for an event it cannot decode.
        assert report["invoked"] == expected_compensation(isolation)
        assert report["failed"]["kind"] == "Handled" and "not a Reading" in report["failed"]["message"]
        sensor.assert_no_message()

        # What the probe did is in the shadow service: the classic shadow gone, the named one kept; the invoked
        # Republisher updated the sensor's shadow.
        assert reported_state(moss, "probe-thing") is None
        assert reported_state(moss, "probe-thing", "config") == {"probe": 1}
        wait_until(lambda: reported_state(moss, "sensor") == expected_compensation(isolation), "the sensor's shadow")
    finally:
        clients.close_all()



def test_a_pinned_swift_function_loops_beside_its_runtime_and_comes_back_after_a_crash(
    moss_binary, kit_binaries, workspace
):
    moss = deploy(moss_binary, kit_binaries, workspace, "NoContainer", pinned_probe=True)
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.paho(version=4, client_id="sensor")
        assert sensor.subscribe("probe/#", qos=0) == [0]
        # Started at deployment, with no invocation: its own loop publishes through a client of its own.
        first = json.loads(next_on(sensor, "probe/beat").payload)
        # Its runtime serves invocations meanwhile.
        command = {"thing": "pinned-thing", "invoke": "repub", "event": READING, "badEvent": {}}
        sensor.publish("probe/in", json.dumps(command), qos=1)
        report = json.loads(next_on(sensor, "probe/out").payload)
        assert report["invoked"] == expected_compensation("NoContainer")
        assert json.loads(next_on(sensor, "probe/beat").payload)["pid"] == first["pid"]
        # Killed, it is started again (with backoff) and its loop runs anew.
        os.kill(first["pid"], signal.SIGKILL)
        wait_until(
            lambda: json.loads(next_on(sensor, "probe/beat").payload)["pid"] != first["pid"],
            "a new worker of the pinned function beats",
            timeout=30,
        )
    finally:
        clients.close_all()
        stop(moss, workspace)
