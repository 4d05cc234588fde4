"""A TEST DOUBLE of the core side of the Greengrass V1 IPC (greengrass-v1.md §3.3), for the Python runtime's own tests.

This is not Moss and not a reference for it: the real IPC server is the Swift one in Sources/MossFunctions. This
fake plays just enough of the core, on 127.0.0.1 and a free port, with the standard library only, to drive
`lambda_runtime.py` and the unmodified greengrasssdk 1.6.1 from the outside:

* it checks `Authorization` against the token it was given (403 otherwise) and records every request;
* it hands out work items that a test enqueues (`GET /2016-11-01/functions/{arn}/work`, a long poll; with
  `poll_timeout` set it answers 204 with no invocation when nothing arrived in time, which the client must treat as
  "poll again"), and records results and handler errors (`POST …/work`) and initialization reports
  (`PUT …/initialized`);
* it takes invocations (`POST /2016-11-01/functions/{arn}`): publishes to GGRouter are recorded; GGShadowService
  calls are answered from a small in-memory shadow store (or with a canned `{code, message}` error per thing);
  calls to any other function are answered by a responder the test registered, or queued as work for that ARN;
* it serves results (`GET /2016-11-01/functions/{arn}` with `X-Amz-InvocationId`, blocking until the result exists)
  with `X-Amz-Function-Error` always present (empty on success) unless `omit_function_error_header` is set.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Optional
from urllib.parse import unquote

API_PREFIX = "/2016-11-01/functions/"
ROUTER_ARN = "arn:aws:lambda:::function:GGRouter"
SHADOW_ARN = "arn:aws:lambda:::function:GGShadowService"


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict  # lower-cased names
    body: bytes


@dataclass
class Invocation:
    """An invocation the fake received (POST /functions/{target})."""

    target: str
    invocation_id: str
    invocation_type: str
    client_context_header: str
    payload: bytes
    authorization: Optional[str]

    @property
    def client_context(self) -> dict:
        if not self.client_context_header:
            return {}
        return json.loads(base64.b64decode(self.client_context_header))

    @property
    def custom(self) -> dict:
        return self.client_context.get("custom", {})


@dataclass
class Result:
    payload: bytes
    function_error: str

    def json(self):
        return json.loads(self.payload)


@dataclass
class WorkItem:
    invocation_id: str
    payload: bytes
    client_context_header: str


@dataclass
class FakeState:
    token: str
    poll_timeout: Optional[float]
    omit_function_error_header: bool = False
    requests: list = field(default_factory=list)
    auth_failures: list = field(default_factory=list)
    initializations: list = field(default_factory=list)  # (arn, dict)
    invocations: list = field(default_factory=list)  # Invocation
    work: dict = field(default_factory=dict)  # arn -> [WorkItem]
    results: dict = field(default_factory=dict)  # invocation id -> Result
    shadows: dict = field(default_factory=dict)  # thing -> document
    shadow_errors: dict = field(default_factory=dict)  # thing -> (code, message)
    responders: dict = field(default_factory=dict)  # arn -> callable(Invocation) -> (bytes, function error)
    stopping: bool = False
    keep_alive: bool = False  # answer without `Connection: close`, so clients may reuse the connection
    connections: int = 0  # TCP connections accepted


class FakeIPCCore:
    """The test double. `start()` binds 127.0.0.1 on a free port; `stop()` releases long polls and the port."""

    def __init__(self, token: str = "fake-core-token", poll_timeout: Optional[float] = None, keep_alive: bool = False):
        self.state = FakeState(token=token, poll_timeout=poll_timeout, keep_alive=keep_alive)
        self.condition = threading.Condition()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # Life

    def start(self) -> "FakeIPCCore":
        core = self

        class Handler(_Handler):
            fake = core

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-ipc-core", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        with self.condition:
            self.state.stopping = True
            self.condition.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    # What tests do

    def enqueue(self, function_arn: str, payload: bytes = b"", custom: Optional[dict] = None,
                client_context_header: Optional[str] = None) -> str:
        """Hands `function_arn` an invocation; returns its id."""
        if client_context_header is None:
            client_context_header = "" if custom is None else _encode_context({"custom": custom})
        invocation_id = str(uuid.uuid4())
        with self.condition:
            self.state.work.setdefault(function_arn, []).append(
                WorkItem(invocation_id, payload, client_context_header))
            self.condition.notify_all()
        return invocation_id

    def wait_for(self, predicate: Callable[[FakeState], object], what: str, timeout: float = 15.0):
        """Waits (on the fake's condition, no polling sleeps) until `predicate(state)` is truthy; returns it."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                value = predicate(self.state)
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"timed out after {timeout}s waiting until {what}")
                self.condition.wait(remaining)

    def wait_result(self, invocation_id: str, timeout: float = 15.0) -> Result:
        return self.wait_for(lambda s: s.results.get(invocation_id), f"invocation {invocation_id} has a result",
                             timeout)

    def wait_initialization(self, timeout: float = 15.0):
        return self.wait_for(lambda s: s.initializations and s.initializations[0], "the runtime reports /initialized",
                             timeout)

    def invocations_of(self, target: str) -> list:
        with self.condition:
            return [i for i in self.state.invocations if i.target == target]

    def requests_matching(self, method: str, path_suffix: str) -> list:
        with self.condition:
            return [r for r in self.state.requests if r.method == method and r.path.endswith(path_suffix)]

    # The shadow service the fake plays

    def _shadow_reply(self, thing: str, operation: str, payload: bytes) -> bytes:
        if thing in self.state.shadow_errors:
            code, message = self.state.shadow_errors[thing]
            return json.dumps({"code": code, "message": message, "timestamp": int(time.time())}).encode()
        now = int(time.time())
        document = self.state.shadows.get(thing)
        if operation == "get":
            if document is None:
                return json.dumps({"code": 404, "message": f"No shadow exists with name: '{thing}'"}).encode()
            return json.dumps(document).encode()
        if operation == "delete":
            if document is None:
                return json.dumps({"code": 404, "message": f"No shadow exists with name: '{thing}'"}).encode()
            del self.state.shadows[thing]
            return json.dumps({"version": document["version"], "timestamp": now}).encode()
        if operation == "update":
            try:
                update = json.loads(payload)
                state = update["state"]
                if not isinstance(state, dict):
                    raise ValueError("state must be an object")
            except (ValueError, KeyError, TypeError):
                return json.dumps({"code": 400, "message": "Invalid JSON"}).encode()
            if document is None:
                document = {"state": {}, "version": 0}
            for section, values in state.items():
                merged = document["state"].setdefault(section, {})
                merged.update(values or {})
            document["version"] += 1
            document["timestamp"] = now
            self.state.shadows[thing] = document
            return json.dumps({"state": state, "version": document["version"], "timestamp": now}).encode()
        return json.dumps({"code": 400, "message": f"unknown operation {operation}"}).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeIPCCore
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet
        pass

    def setup(self):
        super().setup()
        with self.fake.condition:
            self.fake.state.connections += 1

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def _dispatch(self, method: str):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake = self.fake
        with fake.condition:
            fake.state.requests.append(RecordedRequest(method, self.path, headers, body))
            fake.condition.notify_all()
        if headers.get("authorization") != fake.state.token:
            with fake.condition:
                fake.state.auth_failures.append(RecordedRequest(method, self.path, headers, body))
                fake.condition.notify_all()
            return self._reply(403, {"message": "the Authorization token is not a worker's"})
        if not self.path.startswith(API_PREFIX):
            return self._reply(404, {"message": "not found"})
        rest = unquote(self.path[len(API_PREFIX):])
        arn, _, action = rest.partition("/")
        if action == "work" and method == "GET":
            return self._get_work(arn)
        if action == "work" and method == "POST":
            return self._post_result(headers, body)
        if action == "initialized" and method == "PUT":
            with fake.condition:
                fake.state.initializations.append((arn, json.loads(body)))
                fake.condition.notify_all()
            return self._reply(202, None)
        if action == "" and method == "POST":
            return self._invoke(arn, headers, body)
        if action == "" and method == "GET":
            return self._get_result(headers)
        return self._reply(405, {"message": "method not allowed"})

    def _get_work(self, arn: str):
        fake = self.fake
        deadline = None if fake.state.poll_timeout is None else time.monotonic() + fake.state.poll_timeout
        with fake.condition:
            while not fake.state.work.get(arn):
                if fake.state.stopping:
                    return self._reply(503, {"message": "stopping"})
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return self._reply(204, None)
                fake.condition.wait(remaining if remaining is not None else 0.5)
            item = fake.state.work[arn].pop(0)
        return self._reply(200, item.payload, {
            "X-Amz-InvocationId": item.invocation_id,
            "X-Amz-Client-Context": item.client_context_header,
            "X-Amz-Invocation-Type": "RequestResponse",
        })

    def _post_result(self, headers: dict, body: bytes):
        invocation_id = headers.get("x-amz-invocationid")
        if not invocation_id:
            return self._reply(400, {"message": "X-Amz-InvocationId is missing"})
        with self.fake.condition:
            self.fake.state.results[invocation_id] = Result(body, headers.get("x-amz-function-error", ""))
            self.fake.condition.notify_all()
        return self._reply(202, None)

    def _invoke(self, target: str, headers: dict, body: bytes):
        fake = self.fake
        invocation = Invocation(
            target=target,
            invocation_id=str(uuid.uuid4()),
            invocation_type=headers.get("x-amz-invocation-type", "RequestResponse"),
            client_context_header=headers.get("x-amz-client-context", ""),
            payload=body,
            authorization=headers.get("authorization"),
        )
        with fake.condition:
            fake.state.invocations.append(invocation)
            if target == ROUTER_ARN:
                pass  # a publish: recorded, nothing to answer
            elif target == SHADOW_ARN:
                subject = invocation.custom.get("subject", "")
                parts = subject.split("/")  # $aws/things/<thing>/shadow/<op>
                if len(parts) == 5 and parts[0] == "$aws" and parts[1] == "things" and parts[3] == "shadow":
                    reply = fake._shadow_reply(parts[2], parts[4], body)
                else:
                    reply = json.dumps({"code": 400, "message": f"bad subject {subject!r}"}).encode()
                fake.state.results[invocation.invocation_id] = Result(reply, "")
            elif target in fake.state.responders:
                payload, function_error = fake.state.responders[target](invocation)
                fake.state.results[invocation.invocation_id] = Result(payload, function_error)
            else:
                fake.state.work.setdefault(target, []).append(
                    WorkItem(invocation.invocation_id, body, invocation.client_context_header))
            fake.condition.notify_all()
        return self._reply(202, None, {"X-Amz-InvocationId": invocation.invocation_id})

    def _get_result(self, headers: dict):
        invocation_id = headers.get("x-amz-invocationid")
        if not invocation_id:
            return self._reply(400, {"message": "X-Amz-InvocationId is missing"})
        fake = self.fake
        with fake.condition:
            while invocation_id not in fake.state.results:
                if fake.state.stopping:
                    return self._reply(503, {"message": "stopping"})
                fake.condition.wait(0.5)
            result = fake.state.results[invocation_id]
        extra = {} if fake.state.omit_function_error_header else {"X-Amz-Function-Error": result.function_error}
        return self._reply(200, result.payload, extra)

    def _reply(self, status: int, body, headers: Optional[dict] = None):
        if body is None:
            data = b""
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        else:
            data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Length", str(len(data)))
        if not self.fake.state.keep_alive:
            self.send_header("Connection", "close")
        self.end_headers()
        if data and status != 204:
            self.wfile.write(data)
        self.close_connection = not self.fake.state.keep_alive


def _encode_context(context: dict) -> str:
    return base64.b64encode(json.dumps(context).encode()).decode()
