"""The clean-room Python runtime (Sources/MossFunctions/Resources/python) with the unmodified greengrasssdk 1.6.1.

Each test runs `lambda_runtime.py --handler=…` as a subprocess, in a temporary code directory, against
`fake_ipc_core.FakeIPCCore` (a test double of the core's IPC server: the real one is the Swift server in
MossFunctions, tested elsewhere). Nothing is installed here: greengrasssdk 1.6.1 must already be importable
(scripts/test.sh installs it); without it these tests are skipped. Waits are on conditions, never fixed sleeps;
every subprocess is killed at teardown; only 127.0.0.1 and free ports are used.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from fake_ipc_core import ROUTER_ARN, SHADOW_ARN, FakeIPCCore
from tutorial_seed import seed_republisher

REPOSITORY = Path(__file__).resolve().parent.parent
RUNTIME_ROOT = REPOSITORY / "Sources" / "MossFunctions" / "Resources" / "python"
BOOTSTRAP = RUNTIME_ROOT / "lambda_runtime" / "lambda_runtime.py"

FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:under_test:3"
TOKEN = "runtime-test-token"


def _sdk_version():
    try:
        import importlib.metadata as metadata

        return metadata.version("greengrasssdk")
    except Exception:
        return None


pytestmark = pytest.mark.skipif(
    _sdk_version() != "1.6.1",
    reason=f"greengrasssdk 1.6.1 is not installed (found {_sdk_version()}); scripts/test.sh installs it",
)


# Fixtures


@pytest.fixture
def fake_core():
    core = FakeIPCCore(token=TOKEN).start()
    yield core
    core.stop()


class RuntimeProcess:
    def __init__(self, process: subprocess.Popen, stdout_path: Path, stderr_path: Path):
        self.process = process
        self.stdout_path = stdout_path
        self.stderr_path = stderr_path

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def wait(self, timeout: float = 15.0) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the runtime did not exit within {timeout}s; stderr:\n{self.stderr}")


@pytest.fixture
def runtimes(tmp_path):
    """start(source, handler=…, env=…) writes `source` as the code directory's function.py and starts the runtime."""
    started: list[RuntimeProcess] = []
    counter = [0]

    def start(source: str, core: FakeIPCCore, handler: str = "function.function_handler", encoding: str = "json",
              env: dict | None = None, files: dict | None = None, pass_fds=(), command_prefix=(),
              function_arn: str = FUNCTION_ARN, token: str = TOKEN) -> RuntimeProcess:
        counter[0] += 1
        code = tmp_path / f"code{counter[0]}"
        code.mkdir()
        (code / "function.py").write_text(textwrap.dedent(source))
        for name, content in (files or {}).items():
            (code / name).write_text(content)
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "PYTHONPATH": str(RUNTIME_ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "MY_FUNCTION_ARN": function_arn,
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
            "GG_DAEMON_PORT": str(core.port),
            "ENCODING_TYPE": encoding,
            "GGC_MAX_INTERFACE_VERSION": "1.5",
            "ROUTER_FUNCTION_ARN": ROUTER_ARN,
            "SHADOW_FUNCTION_ARN": SHADOW_ARN,
            "SECRETS_MANAGER_FUNCTION_ARN": "arn:aws:lambda:::function:GGSecretManager:1",
            "AWS_REGION": "us-east-1",
        }
        environment.update(env or {})
        stdout_path = tmp_path / f"runtime{counter[0]}.stdout"
        stderr_path = tmp_path / f"runtime{counter[0]}.stderr"
        with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(
                [*command_prefix, sys.executable, str(BOOTSTRAP), f"--handler={handler}"],
                cwd=code, env=environment, stdout=stdout, stderr=stderr, pass_fds=pass_fds,
                start_new_session=True,
            )
        runtime = RuntimeProcess(process, stdout_path, stderr_path)
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        if runtime.process.poll() is None:
            try:
                os.killpg(runtime.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            runtime.process.wait(10)


def wait_until(condition, what: str, timeout: float = 15.0, interval: float = 0.02):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting until {what}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Events, results, errors, context


ECHO = """
    import json

    def function_handler(event, context):
        if event == {"none": True}:
            return None
        return {
            "event": event,
            "subject": context.client_context.custom.get("subject"),
            "custom": context.client_context.custom,
            "function_name": context.function_name,
            "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "identity": context.identity,
            "remaining": context.get_remaining_time_in_millis(),
        }
"""


def test_json_event_result_and_context(fake_core, runtimes):
    runtimes(ECHO, fake_core)
    arn, report = fake_core.wait_initialization()
    assert arn == FUNCTION_ARN
    assert report == {"Success": True, "Response": ""}

    reading = {"temperature": 21.5, "humidity": 40, "pressure": 1013.2, "message": "ok"}
    invocation = fake_core.enqueue(FUNCTION_ARN, json.dumps(reading).encode(), custom={"subject": "bme680/readings"})
    result = fake_core.wait_result(invocation)
    assert result.function_error == ""
    body = result.json()
    assert body["event"] == reading
    assert body["subject"] == "bme680/readings"
    assert body["function_name"] == "under_test"
    assert body["function_version"] == "3"
    assert body["invoked_function_arn"] == FUNCTION_ARN
    assert body["aws_request_id"] == invocation
    assert body["identity"] is None
    assert 0 < body["remaining"] <= 3000

    # An empty payload is {}; no client context gives an empty custom; None is posted as null.
    empty = fake_core.enqueue(FUNCTION_ARN, b"")
    assert fake_core.wait_result(empty).json()["event"] == {}
    assert fake_core.wait_result(empty).json()["custom"] == {}
    none = fake_core.enqueue(FUNCTION_ARN, b'{"none": true}')
    assert fake_core.wait_result(none).payload == b"null"

    # What went over the wire: the token on every request, the invocation id on the result.
    posts = fake_core.requests_matching("POST", "/work")
    assert posts and all(r.headers["authorization"] == TOKEN for r in fake_core.state.requests)
    assert posts[0].headers["x-amz-invocationid"] == invocation
    assert "x-amz-function-error" not in posts[0].headers


def test_the_runtime_keeps_its_connection_open_where_the_core_allows(runtimes):
    core = FakeIPCCore(token=TOKEN, keep_alive=True).start()
    try:
        runtimes(ECHO, core)
        core.wait_initialization()
        for n in range(5):
            invocation = core.enqueue(FUNCTION_ARN, json.dumps({"n": n}).encode())
            assert core.wait_result(invocation).json()["event"] == {"n": n}
        # Initialization, five polls and five results, all over the one connection it opened first.
        assert len(core.state.requests) >= 11 and core.state.connections == 1
    finally:
        core.stop()


def test_binary_event_and_result(fake_core, runtimes):
    source = """
        def function_handler(event, context):
            assert isinstance(event, bytes), type(event)
            if event == b"none":
                return None
            if event == b"text":
                return "h\\u00e9llo"
            return event[::-1]
    """
    runtimes(source, fake_core, encoding="binary")
    payload = bytes([0, 255, 1, 254, 10, 13]) + b"not json {"
    invocation = fake_core.enqueue(FUNCTION_ARN, payload, custom={"subject": "raw/bytes"})
    result = fake_core.wait_result(invocation)
    assert result.function_error == ""
    assert result.payload == payload[::-1]
    assert fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b"none")).payload == b""
    assert fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b"text")).payload == "héllo".encode()


def test_handler_exception_is_posted_as_handled(fake_core, runtimes):
    source = """
        def function_handler(event, context):
            if event.get("fail"):
                raise ValueError("bad reading: " + str(event["fail"]))
            if event.get("unserialisable"):
                return {"when": object()}
            return {"ok": True}
    """
    runtime = runtimes(source, fake_core)
    failing = fake_core.enqueue(FUNCTION_ARN, b'{"fail": 42}')
    result = fake_core.wait_result(failing)
    assert result.function_error == "Handled"
    error = result.json()
    assert error["errorMessage"] == "bad reading: 42"
    assert error["errorType"] == "ValueError"
    assert any("function.py" in frame and "function_handler" in frame for frame in error["stackTrace"])
    assert not any("lambda_runtime.py" in frame for frame in error["stackTrace"])
    wire = [r for r in fake_core.requests_matching("POST", "/work") if r.headers["x-amz-invocationid"] == failing]
    assert wire[0].headers["x-amz-function-error"] == "Handled"

    # A result that is not JSON-serialisable is a handled error too.
    unserialisable = fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b'{"unserialisable": 1}'))
    assert unserialisable.function_error == "Handled"
    assert unserialisable.json()["errorType"] == "TypeError"

    # A payload that is not JSON for a json function never reaches the handler.
    not_json = fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b"hello"))
    assert not_json.function_error == "Handled"
    assert not_json.json()["errorType"] == "JSONDecodeError"

    # The worker survives all of that and the traceback is in its log.
    assert fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b"{}")).json() == {"ok": True}
    assert runtime.process.poll() is None
    wait_until(lambda: "ValueError: bad reading: 42" in runtime.stderr, "the traceback is logged")


# greengrasssdk from a handler


def test_publish_reaches_the_router_with_the_client_context(fake_core, runtimes):
    source = """
        import json
        import greengrasssdk

        client = greengrasssdk.client('iot-data')

        def function_handler(event, context):
            client.publish(topic='readings/out', payload=json.dumps(event))
            client.publish(topic='readings/bytes', payload=b'\\x00\\x01', queueFullPolicy='AllOrException')
            return {"published": 2}
    """
    runtimes(source, fake_core)
    invocation = fake_core.enqueue(FUNCTION_ARN, b'{"temperature": 20}', custom={"subject": "bme680/readings"})
    assert fake_core.wait_result(invocation).json() == {"published": 2}

    publishes = fake_core.invocations_of(ROUTER_ARN)
    assert len(publishes) == 2
    first, second = publishes
    assert first.invocation_type == "Event"
    assert first.authorization == TOKEN
    assert first.custom == {"source": FUNCTION_ARN, "subject": "readings/out", "queueFullPolicy": ""}
    assert json.loads(first.payload) == {"temperature": 20}
    assert second.custom == {"source": FUNCTION_ARN, "subject": "readings/bytes", "queueFullPolicy": "AllOrError"}
    assert second.payload == b"\x00\x01"
    # Event invocations are never followed by a result request.
    assert not fake_core.requests_matching("GET", "function:GGRouter")


def test_shadow_round_trips_and_shadow_errors(fake_core, runtimes):
    source = """
        import json
        import greengrasssdk
        from greengrasssdk.IoTDataPlane import ShadowError

        client = greengrasssdk.client('iot-data')

        def function_handler(event, context):
            thing = event["thing"]
            try:
                if event["op"] == "update":
                    reply = client.update_thing_shadow(thingName=thing, payload=json.dumps(event["doc"]))
                elif event["op"] == "get":
                    reply = client.get_thing_shadow(thingName=thing)
                else:
                    reply = client.delete_thing_shadow(thingName=thing)
            except ShadowError as error:
                return {"ShadowError": str(error)}
            assert isinstance(reply["payload"], bytes)
            return json.loads(reply["payload"])
    """
    runtimes(source, fake_core)

    def call(**event):
        return fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, json.dumps(event).encode())).json()

    accepted = call(op="update", thing="my_sensor", doc={"state": {"reported": {"temperature": 12.5}}})
    assert accepted["state"] == {"reported": {"temperature": 12.5}} and accepted["version"] == 1
    document = call(op="get", thing="my_sensor")
    assert document["state"]["reported"] == {"temperature": 12.5}

    shadow_calls = fake_core.invocations_of(SHADOW_ARN)
    assert [c.custom["subject"] for c in shadow_calls] == [
        "$aws/things/my_sensor/shadow/update", "$aws/things/my_sensor/shadow/get"]
    assert all(c.invocation_type == "RequestResponse" for c in shadow_calls)
    result_requests = fake_core.requests_matching("GET", "function:GGShadowService")
    assert [r.headers["x-amz-invocationid"] for r in result_requests] == [c.invocation_id for c in shadow_calls]

    # A reply with code and message is a ShadowError (here: no such shadow after delete).
    assert call(op="delete", thing="my_sensor")["version"] == 1
    missing = call(op="get", thing="my_sensor")
    assert "ShadowError" in missing and "404" in missing["ShadowError"]
    fake_core.state.shadow_errors["locked"] = (409, "Version conflict")
    conflict = call(op="update", thing="locked", doc={"state": {"reported": {"a": 1}}})
    assert "409" in conflict["ShadowError"] and "Version conflict" in conflict["ShadowError"]


def test_a_core_without_the_empty_function_error_header_breaks_every_shadow_call(fake_core, runtimes):
    """Why the core must always send `X-Amz-Function-Error:` (empty on success): greengrasssdk tests `!= ''`."""
    source = """
        import greengrasssdk
        from greengrasssdk.IoTDataPlane import ShadowError

        client = greengrasssdk.client('iot-data')

        def function_handler(event, context):
            try:
                client.update_thing_shadow(thingName='t', payload='{"state": {"reported": {"x": 1}}}')
            except ShadowError as error:
                return {"ShadowError": str(error)}
            return {"ok": True}
    """
    fake_core.state.omit_function_error_header = True
    runtimes(source, fake_core)
    result = fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b"{}")).json()
    assert "FunctionError \"None\"" in result["ShadowError"]


def test_lambda_invoke_of_another_function(fake_core, runtimes):
    other = "arn:aws:lambda:us-east-1:000000000000:function:other"

    def responder(invocation):
        return json.dumps({"target": invocation.target, "got": json.loads(invocation.payload),
                           "context": invocation.client_context}).encode(), ""

    fake_core.state.responders[other + ":2"] = responder
    fake_core.state.responders[other + ":7"] = lambda invocation: (b'{"errorMessage": "boom"}', "Handled")
    source = """
        import base64, json
        import greengrasssdk

        client = greengrasssdk.client('lambda')

        def function_handler(event, context):
            other = "arn:aws:lambda:us-east-1:000000000000:function:other"
            context_b64 = base64.b64encode(json.dumps({"custom": {"caller": "under_test"}}).encode())
            reply = client.invoke(FunctionName=other, Qualifier="2", Payload=json.dumps({"n": 1}),
                                  ClientContext=context_b64)
            failed = client.invoke(FunctionName=other + ":7", Payload=b"{}")
            event_reply = client.invoke(FunctionName=other + ":2", InvocationType="Event", Payload=b"{}")
            return {
                "payload": json.loads(reply["Payload"].read()),
                "function_error": reply["FunctionError"],
                "failed": [failed["FunctionError"], json.loads(failed["Payload"])],
                "event": [event_reply["FunctionError"], event_reply["Payload"].decode()],
            }
    """
    runtimes(source, fake_core)
    result = fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b"{}")).json()
    assert result["payload"] == {"target": other + ":2", "got": {"n": 1}, "context": {"custom": {"caller": "under_test"}}}
    assert result["function_error"] == ""
    assert result["failed"] == ["Handled", {"errorMessage": "boom"}]
    assert result["event"] == ["", ""]
    calls = fake_core.invocations_of(other + ":2")
    assert [c.invocation_type for c in calls] == ["RequestResponse", "Event"]


def test_the_machine_learning_sdk_invokes_the_inference_service(fake_core, runtimes):
    """greengrass_machine_learning_sdk, shipped with the runtime: the request goes to V1's GG-ML-INF ARN with the
    content types in the client context; the reply's Body is readable; Handled and missing services raise the SDK's
    two exceptions."""
    service = "arn:aws:lambda:us-east-1:aws:function:GG-ML-INF-tensorflow-rain-predictor"

    def responder(invocation):
        request = json.loads(invocation.payload)
        if "inputs" not in request:
            return b'{"errorMessage": "the body must be JSON {inputs}"}', "Handled"
        body = json.dumps({"y": [[sum(request["inputs"]["x"][0])]]})
        return json.dumps({"Body": body, "Content-Type": "application/json", "context": invocation.client_context}).encode(), ""

    fake_core.state.responders[service] = responder
    # What Moss answers for a service the function has no model for.
    fake_core.state.responders[service.replace("rain-predictor", "nothing-here")] = lambda invocation: (
        b'{"errorMessage": "no inference service", "errorType": "Unhandled"}', "Unhandled")
    source = """
        import json
        import greengrass_machine_learning_sdk as ml

        client = ml.client('inference')

        def function_handler(event, context):
            reply = client.invoke_inference_service(AlgoType='tensorflow', ServiceName='rain-predictor',
                                                    ContentType='application/json',
                                                    Body=json.dumps({'inputs': {'x': [[1.0, 2.0, 3.5]]}}))
            outcome = {'outputs': json.loads(reply['Body'].read()), 'type': reply['ContentType']}
            try:
                client.invoke_inference_service(AlgoType='tensorflow', ServiceName='rain-predictor', Body='{}')
            except ml.GreengrassInferenceException as error:
                outcome['refused'] = str(error)
            try:
                client.invoke_inference_service(AlgoType='tensorflow', ServiceName='nothing-here', Body='{}')
            except ml.GreengrassDependencyException as error:
                outcome['missing'] = type(error).__name__
            return outcome
    """
    runtimes(source, fake_core)
    result = fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b"{}")).json()
    assert result["outputs"] == {"y": [[6.5]]} and result["type"] == "application/json"
    assert result["refused"] == "the body must be JSON {inputs}"
    assert result["missing"] == "GreengrassDependencyException"
    [call] = fake_core.invocations_of(service)[:1]
    assert call.invocation_type == "RequestResponse"
    assert call.client_context == {"custom": {"Content-Type": "application/json", "Accept": "application/json"}}


def test_function_to_function_through_two_runtimes(fake_core, runtimes):
    """The caller's RequestResponse invoke becomes the callee's work item; the callee's result comes back."""
    callee_arn = "arn:aws:lambda:us-east-1:000000000000:function:callee:1"
    runtimes("""
        def function_handler(event, context):
            return {"doubled": event["n"] * 2, "caller": context.client_context.custom.get("caller")}
    """, fake_core, function_arn=callee_arn)
    runtimes("""
        import base64, json
        import greengrasssdk

        client = greengrasssdk.client('lambda')

        def function_handler(event, context):
            reply = client.invoke(FunctionName="arn:aws:lambda:us-east-1:000000000000:function:callee:1",
                                  Payload=json.dumps({"n": event["n"]}),
                                  ClientContext=base64.b64encode(b'{"custom": {"caller": "under_test"}}'))
            return json.loads(reply["Payload"].read())
    """, fake_core)
    result = fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b'{"n": 21}')).json()
    assert result == {"doubled": 42, "caller": "under_test"}


# Life cycle


def test_pinned_module_loops_at_top_level_and_still_publishes(fake_core, runtimes):
    source = """
        import json, time
        import greengrasssdk

        client = greengrasssdk.client('iot-data')
        count = 0
        while True:
            count += 1
            client.publish(topic='pinned/heartbeat', payload=json.dumps({"count": count}))
            print("published", count)
            time.sleep(0.02)

        def function_handler(event, context):
            raise AssertionError("never reached")
    """
    runtime = runtimes(source, fake_core)
    fake_core.wait_for(lambda s: len([i for i in s.invocations if i.target == ROUTER_ARN]) >= 5,
                       "the pinned module published five times")
    heartbeats = [json.loads(i.payload)["count"] for i in fake_core.invocations_of(ROUTER_ARN)]
    assert heartbeats[:5] == [1, 2, 3, 4, 5]
    # The work loop was never reached: no initialization report, no poll for work.
    assert fake_core.state.initializations == []
    assert fake_core.requests_matching("GET", "/work") == []
    wait_until(lambda: "published 3" in runtime.stderr, "print() output reaches the log")
    # SIGTERM during the module's loop ends the process cleanly.
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0


def test_import_failure_is_reported_and_exits_non_zero(fake_core, runtimes):
    runtime = runtimes("""
        import mxnet_that_is_not_installed

        def function_handler(event, context):
            pass
    """, fake_core)
    arn, report = fake_core.wait_initialization()
    assert arn == FUNCTION_ARN
    assert report["Success"] is False
    assert report["Response"] == "ModuleNotFoundError(\"No module named 'mxnet_that_is_not_installed'\")"
    assert runtime.wait() == 1
    assert "Failed to initialize Lambda runtime due to exception" in runtime.stderr
    assert "Traceback (most recent call last)" in runtime.stderr
    assert fake_core.requests_matching("GET", "/work") == []


def test_missing_handler_function_and_interface_version_are_initialization_failures(fake_core, runtimes):
    missing = runtimes("x = 1\n", fake_core, handler="function.nowhere")
    assert missing.wait() == 1
    too_old = runtimes(ECHO, fake_core, env={"GGC_MAX_INTERFACE_VERSION": "1.4"})
    assert too_old.wait() == 1
    reports = fake_core.wait_for(lambda s: len(s.initializations) >= 2 and s.initializations, "two reports")
    responses = sorted(report["Response"] for _, report in reports)
    assert all(report["Success"] is False for _, report in reports)
    assert any("has no function 'nowhere'" in r for r in responses)
    assert any("interface version 1.5 is not supported by this core (maximum 1.4)" in r for r in responses)


def test_bad_environment_exits_non_zero(fake_core, runtimes):
    runtime = runtimes(ECHO, fake_core, encoding="xml")
    assert runtime.wait() == 1
    _, report = fake_core.wait_initialization()
    assert report["Success"] is False and "ENCODING_TYPE" in report["Response"]


def test_sigterm_while_waiting_for_work_exits_cleanly(fake_core, runtimes):
    runtime = runtimes(ECHO, fake_core)
    fake_core.wait_for(lambda s: any(r.method == "GET" and r.path.endswith("/work") for r in s.requests),
                       "the runtime polls for work")
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0


def test_sigterm_during_a_handler_exits_cleanly(fake_core, runtimes):
    runtime = runtimes("""
        import time

        def function_handler(event, context):
            print("handler started")
            while True:
                time.sleep(0.05)
    """, fake_core)
    fake_core.enqueue(FUNCTION_ARN, b"{}")
    wait_until(lambda: "handler started" in runtime.stderr, "the handler runs")
    runtime.process.send_signal(signal.SIGTERM)
    assert runtime.wait() == 0


def test_a_stopping_core_ends_the_worker(fake_core, runtimes):
    runtime = runtimes(ECHO, fake_core)
    fake_core.wait_for(lambda s: any(r.path.endswith("/work") for r in s.requests), "the runtime polls for work")
    fake_core.stop()  # the pending poll is answered 503
    assert runtime.wait() == 0


def test_wrong_token_is_refused(fake_core, runtimes):
    runtime = runtimes(ECHO, fake_core, token="not-the-token")
    assert runtime.wait() == 1
    assert fake_core.state.auth_failures
    assert "HTTP Error 403" in runtime.stderr


def test_empty_polls_are_repeated(runtimes):
    core = FakeIPCCore(token=TOKEN, poll_timeout=0.05).start()
    try:
        runtimes(ECHO, core)
        core.wait_for(lambda s: len([r for r in s.requests if r.path.endswith("/work")]) >= 3,
                      "the runtime polled again after 204s")
        result = core.wait_result(core.enqueue(FUNCTION_ARN, b'{"a": 1}'))
        assert result.json()["event"] == {"a": 1}
    finally:
        core.stop()


# Logging


def test_log_records_go_to_the_level_pipes(fake_core, runtimes, tmp_path):
    info = open(tmp_path / "info.log", "wb")
    error = open(tmp_path / "error.log", "wb")
    try:
        runtimes("""
            import logging
            import sys

            def function_handler(event, context):
                print("printed line")
                logging.info("info record %d", 7)
                logging.debug("debug record")
                logging.error("error record")
                sys.stderr.write("stderr line\\n")
                return {}
        """, fake_core, env={"_GG_LOG_FD_INFO": str(info.fileno()), "_GG_LOG_FD_ERROR": str(error.fileno())},
            pass_fds=(info.fileno(), error.fileno()))
        fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b"{}"))
    finally:
        info.close()
        error.close()
    info_lines = (tmp_path / "info.log").read_text().splitlines()
    error_lines = (tmp_path / "error.log").read_text().splitlines()
    assert "[INFO]-function.py:6,printed line" in info_lines
    assert "[INFO]-function.py:7,info record 7" in info_lines
    assert not any("debug record" in line for line in info_lines + error_lines)
    assert "[ERROR]-function.py:9,error record" in error_lines
    assert "[ERROR]-function.py:10,stderr line" in error_lines


# The IPC client alone


def _runtime_modules_on_path():
    """Makes the runtime's modules importable in this process, without writing __pycache__ into the resource
    directory (SwiftPM would ship it)."""
    sys.dont_write_bytecode = True
    if str(RUNTIME_ROOT) not in sys.path:
        sys.path.insert(0, str(RUNTIME_ROOT))


def test_function_arn_fields():
    _runtime_modules_on_path()
    from greengrass_common.function_arn_fields import FunctionArnFields

    fields = FunctionArnFields("arn:aws:lambda:eu-west-1:123456789012:function:repub:live")
    assert (fields.region, fields.account_id, fields.name, fields.qualifier) == (
        "eu-west-1", "123456789012", "repub", "live")
    assert fields.unqualified_arn == "arn:aws:lambda:eu-west-1:123456789012:function:repub"
    assert FunctionArnFields("arn:aws:lambda:::function:GGRouter").qualifier == ""
    assert FunctionArnFields("arn:aws:lambda:::function:GGSecretManager:1").qualifier == "1"
    assert FunctionArnFields("arn:aws-cn:lambda:cn-north-1:aws:function:GG-ML-INF-x-y").account_id == "aws"
    assert FunctionArnFields.build_function_arn(fields.unqualified_arn, "2").endswith(":repub:2")
    assert FunctionArnFields.build_function_arn(fields.unqualified_arn, "") == fields.unqualified_arn
    for bad in ("repub", "arn:aws:s3:::bucket", "arn:aws:lambda:us-east-1:12:function:x",
                "arn:aws:lambda:us-east-1:123456789012:function:a:b:c"):
        with pytest.raises(ValueError):
            FunctionArnFields(bad)


def test_ipc_client_short_circuits_the_router_and_gives_up_on_an_absent_core():
    _runtime_modules_on_path()
    from greengrass_ipc_python_sdk.ipc_client import IPCClient, IPCException
    from greengrass_ipc_python_sdk.utils.exponential_backoff import ExponentialBackoff

    client = IPCClient(port=free_port(), token="t", backoff=ExponentialBackoff(initial_delay=0.01, max_attempts=3))
    result = client.get_work_result(ROUTER_ARN, "some-id")  # no server: would fail if it made a request
    assert (result.payload, result.func_err) == (b"", "")
    with pytest.raises(IPCException) as raised:
        client.post_work(SHADOW_ARN, b"{}", b"")
    assert raised.value.status is None and "could not be reached" in str(raised.value)


def test_ipc_client_reads_the_port_and_token_from_the_environment(fake_core, monkeypatch):
    _runtime_modules_on_path()
    from greengrass_ipc_python_sdk.ipc_client import IPCClient, IPCException

    monkeypatch.setenv("GG_DAEMON_PORT", str(fake_core.port))
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", TOKEN)
    client = IPCClient()
    assert (client.endpoint, client.port) == ("127.0.0.1", fake_core.port)
    invocation_id = client.post_work(ROUTER_ARN, "text payload", "", "Event")
    assert invocation_id and fake_core.invocations_of(ROUTER_ARN)[0].payload == b"text payload"
    monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong")
    with pytest.raises(IPCException) as raised:
        IPCClient().post_work(ROUTER_ARN, b"", b"", "Event")
    assert raised.value.status == 403


# The tutorial's republishing function, exactly as the seed prints it


READING = {"temperature": 25.0, "humidity": 40.5, "pressure": 1009.3, "message": "reading 1"}


def test_tutorial_republisher_without_a_thermal_zone(fake_core, runtimes):
    """Without /sys/class/thermal/thermal_zone0/temp (these VMs have none) the seed's function cannot work:
    get_cpu_temperature logs the error and then returns an unbound local, the handler's own except logs that, and
    the final update_thing_shadow refers to `message`, which was never assigned: the invocation fails as Handled
    with UnboundLocalError and the shadow is not updated. This is the function's behaviour, not the runtime's;
    issue 5 supplies the file through a local volume resource (next test)."""
    if os.path.exists("/sys/class/thermal/thermal_zone0/temp"):
        pytest.skip("this host has a thermal zone")
    runtime = runtimes(seed_republisher(), fake_core, env={"THING_NAME": "bme680_sensor"})
    invocation = fake_core.enqueue(FUNCTION_ARN, json.dumps(READING).encode(), custom={"subject": "bme680/readings"})
    result = fake_core.wait_result(invocation)
    assert result.function_error == "Handled"
    assert result.json()["errorType"] == "UnboundLocalError"
    assert "message" in result.json()["errorMessage"]
    assert fake_core.invocations_of(SHADOW_ARN) == []
    wait_until(lambda: "Unable to obtain CPU temperature" in runtime.stderr, "the function's own error is logged")


def _can_bind_mount_over_sys_class_thermal(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None or not os.path.isdir("/sys/class/thermal"):
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         f"mount --bind {tmp_path} /sys/class/thermal"],
        capture_output=True, timeout=10)
    return probe.returncode == 0


def test_tutorial_republisher_with_a_thermal_zone_volume(fake_core, runtimes, tmp_path):
    """The seed's function, unmodified, with /sys/class/thermal supplied the way issue 5 describes (a local volume
    mounted at /sys/class/thermal): here a private mount namespace with a bind mount, which is what container mode
    does. It averages eight CPU readings one second apart, so this takes about 8 s."""
    volume = tmp_path / "thermal"
    (volume / "thermal_zone0").mkdir(parents=True)
    (volume / "thermal_zone0" / "temp").write_text("45000\n")
    if not _can_bind_mount_over_sys_class_thermal(volume):
        pytest.skip("cannot bind-mount over /sys/class/thermal here (needs unshare --mount, i.e. root or userns)")
    prefix = ("unshare", "--mount", "--propagation", "private", "sh", "-c",
              f'mount --bind "{volume}" /sys/class/thermal && exec "$0" "$@"')
    runtime = runtimes(seed_republisher(), fake_core, env={"THING_NAME": "bme680_sensor"}, command_prefix=prefix)
    invocation = fake_core.enqueue(FUNCTION_ARN, json.dumps(READING).encode(), custom={"subject": "bme680/readings"})
    result = fake_core.wait_result(invocation, timeout=30)
    assert result.function_error == "", runtime.stderr
    assert result.payload == b"null"  # the handler returns None

    [update] = fake_core.invocations_of(SHADOW_ARN)
    assert update.custom == {"subject": "$aws/things/bme680_sensor/shadow/update"}
    reported = json.loads(update.payload)["state"]["reported"]
    assert reported == {"temperature": 2 * 25.0 - 45.0, "pressure": 1009.3, "humidity": 40.5,
                        "message": "reading 1"}
    assert fake_core.state.shadows["bme680_sensor"]["state"]["reported"]["temperature"] == 5.0


def test_secrets_manager_get_secret_value(fake_core, runtimes):
    secrets_arn = "arn:aws:lambda:::function:GGSecretManager:1"

    def responder(invocation):
        request = json.loads(invocation.payload)
        assert invocation.client_context_header == ""
        return json.dumps({"ARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + request["SecretId"],
                           "Name": request["SecretId"], "VersionId": "v1", "SecretString": "hunter2",
                           "VersionStages": [request.get("VersionStage", "AWSCURRENT")],
                           "CreatedDate": 1600000000000}).encode(), ""

    fake_core.state.responders[secrets_arn] = responder
    runtimes("""
        import greengrasssdk

        client = greengrasssdk.client('secretsmanager')

        def function_handler(event, context):
            secret = client.get_secret_value(SecretId='db', VersionStage='AWSPREVIOUS')
            return {"value": secret["SecretString"], "year": secret["CreatedDate"].year,
                    "stages": secret["VersionStages"]}
    """, fake_core)
    result = fake_core.wait_result(fake_core.enqueue(FUNCTION_ARN, b"{}")).json()
    assert result == {"value": "hunter2", "year": 2020, "stages": ["AWSPREVIOUS"]}
