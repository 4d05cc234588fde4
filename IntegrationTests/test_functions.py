"""Functions on the real daemon (issue 5, first part): V1 Python Lambdas with the real greengrasssdk 1.6.1 from PyPI,
run by Moss's clean-room runtime over the V1 IPC. A device's publish triggers an on-demand function through a
subscription; what the function publishes reaches a device only through a subscription; its shadow calls go straight
to the shadow service; a handler that times out is killed and answered Unhandled, and the next invocation works.
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from pathlib import Path

import pytest

from broker_helpers import Clients
from conftest import start_moss, wait_until
from function_helpers import functions_config, make_readable, write_function
from tutorial_seed import lay_out_republisher, republisher_group

greengrasssdk = pytest.importorskip("greengrasssdk", reason="pip install greengrasssdk==1.6.1 (scripts/test.sh does)")

HANDLER = '''\
import json
import time
import greengrasssdk

iot = greengrasssdk.client("iot-data")

def handler(event, context):
    subject = context.client_context.custom["subject"]
    print("handling", subject)
    if event.get("sleep"):
        time.sleep(event["sleep"])
    iot.publish(topic="out/" + subject, payload=json.dumps({"got": event, "function": context.function_name}))
    iot.publish(topic="unrouted/" + subject, payload="nobody may see this")
    iot.update_thing_shadow(thingName="sensor", payload=json.dumps({"state": {"reported": {"last": event}}}))
    return {"ok": True}
'''

GROUP = """\
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
    timeout: 2
    isolationMode: NoContainer
subscriptions:
  - id: in
    source: device:sensor
    subject: in/+
    target: function:echo
  - id: out
    source: function:echo
    subject: out/#
    target: device:sensor
"""


@pytest.fixture
def deployed(moss_binary, workspace):
    write_function(workspace, "echo", HANDLER)
    (workspace / "group.yaml").write_text(GROUP)
    (workspace / "moss.yaml").write_text(functions_config())
    moss = start_moss(moss_binary, workspace / "data", "--config", str(workspace / "moss.yaml"))
    result = moss.moss("deploy", str(workspace / "group.yaml"))
    if result.returncode != 0:
        moss.stop()  # never leave a daemon behind a failed deployment
        pytest.fail(f"moss deploy failed:\n{result.stderr}")
    yield moss
    assert moss.stop() == 0, moss.log()
    # No worker outlives the daemon (SIGTERM, then SIGKILL after a grace period).
    assert workers_of(moss.data_dir) == []


def workers_of(data_dir: Path) -> list[int]:
    """Processes whose command line names `data_dir` (the runtime lives there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(data_dir).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_a_device_publish_runs_the_function_whose_publish_and_shadow_update_arrive(deployed):
    clients = Clients(deployed.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        assert sensor.subscribe(("out/#", 1)).codes == [1]
        # The function has no route to unrouted/#, and the sensor cannot even subscribe there.
        assert sensor.subscribe(("unrouted/#", 1)).codes == [0x87]
        for n in range(3):
            assert sensor.publish("in/a", json.dumps({"t": n}).encode(), qos=1).code == 0
            reply = json.loads(sensor.expect_publish(topic="out/in/a", timeout=20).payload)
            assert reply == {"got": {"t": n}, "function": "echo"}
        sensor.assert_quiet()
        shadow = json.loads(deployed.moss("shadow", "get", "sensor", "--json", check=True).stdout)
        assert shadow["state"]["reported"]["last"] == {"t": 2} and shadow["version"] == 3
    finally:
        clients.close_all()


def test_a_timed_out_invocation_kills_the_worker_and_the_next_one_runs(deployed):
    clients = Clients(deployed.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        sensor.subscribe(("out/#", 1))
        sensor.publish("in/slow", json.dumps({"sleep": 30}).encode(), qos=1)
        # The 2 s timeout kills the worker (the daemon logs it) ...
        wait_until(lambda: "Invocation timed out" in deployed.log(), "the invocation times out", timeout=20)
        # ... and the next invocation gets a new one.
        sensor.publish("in/fast", json.dumps({"t": 1}).encode(), qos=1)
        reply = sensor.expect_publish(topic="out/in/fast", timeout=30)
        assert json.loads(reply.payload)["got"] == {"t": 1}
    finally:
        clients.close_all()


def test_reset_stops_the_functions_and_removes_their_logs(deployed):
    clients = Clients(deployed.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        sensor.subscribe(("out/#", 1))
        sensor.publish("in/a", b'{"t": 1}', qos=1)
        sensor.expect_publish(topic="out/in/a", timeout=20)
    finally:
        clients.close_all()
    logs = deployed.data_dir / "logs" / "functions"
    assert (logs / "echo.log").exists()
    # `moss logs` prints what the function wrote.
    wait_until(lambda: "handling in/a" in (logs / "echo.log").read_text(), "the handler's print reaches its log")
    printed = deployed.moss("logs", "echo", check=True).stdout
    assert "handling in/a" in printed and printed == (logs / "echo.log").read_text()
    missing = deployed.moss("logs", "nobody")
    assert missing.returncode != 0 and "nobody" in missing.stderr
    result = deployed.moss("reset", "--yes")
    assert result.returncode == 0, result.stderr
    assert not logs.exists()
    # The worker process is gone (SIGTERM from the host, or SIGKILL after its grace period).
    pids = [int(part.split("=")[1]) for part in deployed.log().split() if part.startswith("worker.pid=")]
    assert pids
    wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in pids), "the workers exit", timeout=10)



def test_the_tutorials_republisher_runs_unmodified_in_a_container(moss_binary, workspace):
    """Issue 5's proof: sensor readings from the broker reach the seed's function in container mode with
    accessSysfs; these VMs have no thermal zone, so a local volume resource mounted at /sys/class/thermal provides
    one; the function writes the compensated reading into the local shadow."""
    if os.geteuid() != 0:
        pytest.skip("container mode needs root (mount namespaces)")
    thermal = lay_out_republisher(workspace, write_function, make_readable)
    (workspace / "group.yaml").write_text(republisher_group(thermal))
    (workspace / "moss.yaml").write_text(functions_config())
    moss = start_moss(moss_binary, workspace / "data", "--config", str(workspace / "moss.yaml"))
    clients = Clients(moss.mqtt_port)
    try:
        result = moss.moss("deploy", str(workspace / "group.yaml"))
        assert result.returncode == 0, result.stderr
        sensor = clients.connected(5, client_id="bme680-sensor")
        reading = {"temperature": 25.0, "humidity": 40.5, "pressure": 1009.3, "message": "reading 1"}
        assert sensor.publish("bme680/readings", json.dumps(reading).encode(), qos=1).code == 0

        def reported():
            shown = moss.moss("shadow", "get", "bme680-sensor", "--json")
            return json.loads(shown.stdout)["state"]["reported"] if shown.returncode == 0 else None

        # The function averages eight CPU readings a second apart before it writes.
        state = wait_until(reported, "the function updates the sensor's shadow", timeout=60)
        assert state == {"temperature": 2 * 25.0 - 45.0, "pressure": 1009.3, "humidity": 40.5, "message": "reading 1"}
    finally:
        clients.close_all()
        assert moss.stop() == 0, moss.log()


def test_a_function_over_its_memory_size_is_killed_and_says_so(moss_binary, workspace):
    if os.geteuid() != 0 or not os.access("/sys/fs/cgroup/memory", os.W_OK) and not os.access("/sys/fs/cgroup", os.W_OK):
        pytest.skip("needs a writable memory cgroup (root)")
    write_function(workspace, "hog", "def handler(event, context):\n    block = bytearray(512 * 1024 * 1024)\n    return len(block)\n")
    (workspace / "group.yaml").write_text(
        """\
core:
  thingName: gateway
devices:
  - thingName: sensor
functions:
  - id: hog
    name: hog
    runtime: python3.11
    handler: hog.handler
    code: hog
    timeout: 30
    memorySize: 65536
subscriptions:
  - id: in
    source: device:sensor
    subject: in
    target: function:hog
"""
    )
    (workspace / "moss.yaml").write_text(functions_config())
    moss = start_moss(moss_binary, workspace / "data", "--config", str(workspace / "moss.yaml"))
    clients = Clients(moss.mqtt_port)
    try:
        assert moss.moss("deploy", str(workspace / "group.yaml")).returncode == 0
        sensor = clients.connected(5, client_id="sensor")
        sensor.publish("in", b"{}", qos=1)
        wait_until(lambda: "Worker killed for memory" in moss.log(), "the worker is killed for memory", timeout=30)
    finally:
        clients.close_all()
        assert moss.stop() == 0, moss.log()


PINNED = '''\
import json
import os
import time
import greengrasssdk

iot = greengrasssdk.client("iot-data")
# Module-level code that never returns, like the tutorial's inference function.
beat = 0
while True:
    beat += 1
    iot.publish(topic="beat", payload=json.dumps({"pid": os.getpid(), "beat": beat}))
    time.sleep(0.1)

def handler(event, context):
    pass
'''

SLOW = '''\
import time

def handler(event, context):
    time.sleep(event.get("sleep", 1))
    return event
'''


def start_with(moss_binary, workspace, functions_yaml: str, subscriptions_yaml: str, config: str = ""):
    (workspace / "group.yaml").write_text(
        "core:\n  thingName: gateway\ndevices:\n  - thingName: sensor\n"
        + "functions:\n" + functions_yaml + "subscriptions:\n" + subscriptions_yaml
    )
    (workspace / "moss.yaml").write_text(functions_config(config))
    moss = start_moss(moss_binary, workspace / "data", "--config", str(workspace / "moss.yaml"))
    result = moss.moss("deploy", str(workspace / "group.yaml"))
    if result.returncode != 0:
        moss.stop()  # never leave a daemon behind a failed deployment
        pytest.fail(f"moss deploy failed:\n{result.stderr}")
    return moss


def test_a_pinned_function_runs_its_module_code_and_comes_back_after_a_crash(moss_binary, workspace):
    write_function(workspace, "pinned", PINNED)
    moss = start_with(
        moss_binary,
        workspace,
        "  - id: pinned\n    name: pinned\n    runtime: python3.11\n    handler: pinned.handler\n    code: pinned\n"
        "    pinned: true\n    isolationMode: NoContainer\n",
        "  - id: beat\n    source: function:pinned\n    subject: beat\n    target: device:sensor\n",
    )
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        sensor.subscribe(("beat", 0))
        first = json.loads(sensor.expect_publish(topic="beat", timeout=20).payload)
        # V1's health API sees the worker: its module code never returns, so it never asked for work.
        port = int(re.search(r"ipc\.port=(\d+)", moss.log()).group(1))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/2016-11-01/health/workers", timeout=10) as reply:
            workers = json.loads(reply.read())
        [worker] = workers
        assert worker["FuncArn"].endswith(":function:pinned:1") and worker["ProcessId"] == first["pid"]
        assert worker["WorkerState"] == "Starting"
        query = json.dumps({"FuncArns": [worker["FuncArn"], "arn:aws:lambda:us-east-1:000000000000:function:nope:1"]})
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/2016-11-01/health/workers", data=query.encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            answer = json.loads(reply.read())
        assert [w["ProcessId"] for w in answer["Workers"]] == [first["pid"]]
        assert answer["InvalidArns"] == ["arn:aws:lambda:us-east-1:000000000000:function:nope:1"]
        # Kill the worker: the pinned function is started again (with backoff) and its module code runs anew.
        os.kill(first["pid"], 9)

        def restarted():
            packet = sensor.expect_publish(topic="beat", timeout=20)
            return json.loads(packet.payload)["pid"] != first["pid"]

        wait_until(restarted, "a new worker of the pinned function publishes", timeout=30)
    finally:
        clients.close_all()
        assert moss.stop() == 0, moss.log()
    assert workers_of(moss.data_dir) == []


def test_the_concurrency_limit_and_a_full_work_queue(moss_binary, workspace):
    write_function(workspace, "slow", SLOW)
    moss = start_with(
        moss_binary,
        workspace,
        "  - id: slow\n    name: slow\n    runtime: python3.11\n    handler: slow.handler\n    code: slow\n"
        "    timeout: 30\n    isolationMode: NoContainer\n",
        "  - id: in\n    source: device:sensor\n    subject: in\n    target: function:slow\n",
        config="  maxConcurrentLimit: 2\n  maxWorkItemCount: 3\n",
    )
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        for _ in range(10):
            sensor.publish("in", json.dumps({"sleep": 3}).encode(), qos=1)
        # At most two workers start; beyond three waiting invocations the rest are refused, counted and logged.
        wait_until(lambda: moss.log().count("Work queue full") >= 5, "refusals are logged", timeout=20)
        started = moss.log().count("Worker started")
        assert started <= 2, moss.log()
    finally:
        clients.close_all()
        assert moss.stop() == 0, moss.log()


CALLER = '''\
import json
import os
import greengrasssdk

iot = greengrasssdk.client("iot-data")
lam = greengrasssdk.client("lambda")
REGION = os.environ["AWS_REGION"]

def body(reply):
    # greengrasssdk returns a StreamingBody on success and plain bytes with a FunctionError.
    payload = reply["Payload"]
    return json.loads(payload.read() if hasattr(payload, "read") else payload)

def handler(event, context):
    arn = "arn:aws:lambda:%s:000000000000:function:doubler:1" % REGION
    reply = lam.invoke(FunctionName=arn, InvocationType="RequestResponse", Payload=json.dumps(event))
    failed = lam.invoke(FunctionName=arn, InvocationType="RequestResponse", Payload=json.dumps({"n": "x"}))
    iot.publish(topic="out/result", payload=json.dumps({
        "doubled": body(reply), "error": failed["FunctionError"],
        "message": body(failed).get("errorMessage", ""),
    }))
'''

DOUBLER = '''\
def handler(event, context):
    return {"n": event["n"] * 2 + 0}
'''


def test_one_function_invokes_another_and_gets_its_result_or_error(moss_binary, workspace):
    for name, source in (("caller", CALLER), ("doubler", DOUBLER)):
        write_function(workspace, name, source)
    moss = start_with(
        moss_binary,
        workspace,
        "".join(
            f"  - id: {name}\n    name: {name}\n    runtime: python3.11\n    handler: {name}.handler\n    code: {name}\n"
            "    timeout: 20\n    isolationMode: NoContainer\n"
            for name in ("caller", "doubler")
        ),
        "  - id: in\n    source: device:sensor\n    subject: in\n    target: function:caller\n"
        "  - id: out\n    source: function:caller\n    subject: out/#\n    target: device:sensor\n",
    )
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        sensor.subscribe(("out/#", 1))
        sensor.publish("in", b'{"n": 21}', qos=1)
        result = json.loads(sensor.expect_publish(topic="out/result", timeout=30).payload)
        assert result["doubled"] == {"n": 42}
        # "x" * 2 + 0 raises TypeError in the callee: the caller sees V1's Handled error with the message.
        assert result["error"] == "Handled" and "str" in result["message"]
    finally:
        clients.close_all()
        assert moss.stop() == 0, moss.log()


INSPECTOR = '''\
import json
import os
import sys
import greengrasssdk

iot = greengrasssdk.client("iot-data")

def body(reply):
    payload = reply["payload"]
    return json.loads(payload.read() if hasattr(payload, "read") else payload)

def handler(event, context):
    names = ["MY_FUNCTION_ARN", "AWS_REGION", "AWS_IOT_THING_NAME", "AWS_IOT_THING_ARN", "AWS_GG_RESOURCE_PREFIX",
             "ENCODING_TYPE", "GGC_MAX_INTERFACE_VERSION", "SITE", "LOG_LEVEL", "PYTHONPATH"]
    report = {"env": {name: os.environ.get(name) for name in names}, "path": sys.path[:3]}
    updated = body(iot.update_thing_shadow(thingName="sensor", payload=json.dumps({"state": {"reported": {"t": 1}}})))
    got = body(iot.get_thing_shadow(thingName="sensor"))
    deleted = body(iot.delete_thing_shadow(thingName="sensor"))
    try:
        iot.get_thing_shadow(thingName="sensor")
        missing = None
    except Exception as error:  # greengrasssdk raises ShadowError with AWS's error document
        missing = str(error)
    report["shadow"] = {"updated": updated["version"], "got": got["state"], "deleted": deleted["version"], "missing": missing}
    iot.publish(topic="out/report", payload=json.dumps(report))
'''


def test_a_function_sees_v1s_environment_and_gets_updates_and_deletes_its_shadow(moss_binary, workspace):
    write_function(workspace, "inspector", INSPECTOR)
    (workspace / "libs").mkdir(mode=0o755)
    moss = start_with(
        moss_binary,
        workspace,
        "  - id: inspector\n    name: inspector\n    version: '7'\n    runtime: python3.11\n    handler: inspector.handler\n"
        "    code: inspector\n    timeout: 20\n    isolationMode: NoContainer\n"
        f"    environment:\n      variables:\n        SITE: north\n        PYTHONPATH: {workspace / 'libs'}\n",
        "  - id: in\n    source: device:sensor\n    subject: in\n    target: function:inspector\n"
        "  - id: out\n    source: function:inspector\n    subject: out/#\n    target: device:sensor\n",
    )
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        sensor.subscribe(("out/#", 1))
        sensor.publish("in", b"{}", qos=1)
        try:
            report = json.loads(sensor.expect_publish(topic="out/report", timeout=30).payload)
        except BaseException:
            print("the function's log:\n" + moss.moss("logs", "inspector").stdout)  # shown with the failure
            raise
    finally:
        clients.close_all()
        assert moss.stop() == 0, moss.log()
    env = report["env"]
    assert env["MY_FUNCTION_ARN"] == "arn:aws:lambda:us-east-1:000000000000:function:inspector:7"
    assert env["AWS_REGION"] == "us-east-1" and env["AWS_IOT_THING_NAME"] == "gateway"
    assert env["AWS_IOT_THING_ARN"] == "arn:aws:iot:us-east-1:000000000000:thing/gateway"
    assert env["ENCODING_TYPE"] == "json" and env["GGC_MAX_INTERFACE_VERSION"] == "1.5" and env["LOG_LEVEL"] == "INFO"
    assert env["SITE"] == "north" and env["AWS_GG_RESOURCE_PREFIX"] is not None
    # V1's order: the group's PYTHONPATH before the code, then the runtime.
    assert report["path"][:2] == [str(workspace / "libs"), str(workspace / "inspector")]
    shadow = report["shadow"]
    assert shadow["updated"] == 1 and shadow["got"] == {"reported": {"t": 1}} and shadow["deleted"] == 1
    assert "404" in shadow["missing"] and "No shadow exists with name: 'sensor'" in shadow["missing"]
