"""Helpers for the Device Shadow integration tests (test_shadow_*.py).

- `AdminAPI`: HTTP/1.1 over the daemon's Unix socket (DATA_DIR/moss.sock), with the shadow routes.
- `ShadowClient`: paho-mqtt 2.1.0 subscribed at QoS 1 to `$aws/things/{thing}/shadow/#` of each thing it watches;
  it keeps every message per topic, hands them out in order (`take`), and proves that nothing *else* was published
  with a barrier: the service handles requests strictly in arrival order (one queue for all shadows), so once the
  reply to a GET on a never-created shadow of a private barrier thing is in, every reply of every earlier request
  is in too. No test sleeps to prove an absence.
- The comparator of spec §12.1 (`assert_matches`): "TS" matches any timestamp, labels T1 < T2 < ... bind to one
  value each, error `message`s match by prefix and error documents may carry an extra `timestamp`; everything
  else must match exactly (missing and unexpected keys both fail; `true` never equals `1`, `1` equals `1.0`).
- `shadow_daemon`: one daemon per test module. MOSS_TEST_SHADOW_SERVICE=PORT:SOCKET points the modules at a
  service this suite did not start instead (to check the test logic against a stand-in); tests that need the
  `moss` binary skip then.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote, urlencode

import paho.mqtt.client as paho
import pytest

from conftest import REPOSITORY, start_moss

HOST = "127.0.0.1"
TIMEOUT = 10.0
VECTORS = REPOSITORY / "Tests" / "MossShadowTests" / "Fixtures" / "vectors.json"

REQUESTS = ("get", "update", "delete")
REPLY_SUFFIXES = (
    "get/accepted",
    "get/rejected",
    "update/accepted",
    "update/rejected",
    "update/delta",
    "update/documents",
    "delete/accepted",
    "delete/rejected",
)
# x-amzn-ErrorType of each REST error status (spec §8.2).
ERROR_TYPES = {
    400: "InvalidRequestException",
    404: "ResourceNotFoundException",
    405: "MethodNotAllowedException",
    409: "ConflictException",
    413: "RequestEntityTooLargeException",
    415: "UnsupportedDocumentEncodingException",
}
UTF8_MESSAGE = "Unsupported documented encoding; supported encoding is UTF-8"


def unique(prefix: str = "thing") -> str:
    """A fresh thing name (it matches [a-zA-Z0-9:_-]+)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def shadow_prefix(thing: str, name: str | None = None) -> str:
    return f"$aws/things/{thing}/shadow" + (f"/name/{name}" if name is not None else "")


def shadow_topic(thing: str, name: str | None, suffix: str) -> str:
    return f"{shadow_prefix(thing, name)}/{suffix}"


def load_vectors() -> list[dict]:
    """The spec's §12.2 vectors (scripts/shadow/extract_vectors.py writes the fixture)."""
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def as_bytes(payload: bytes | str | dict | None) -> bytes:
    if payload is None:
        return b""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    return json.dumps(payload, separators=(",", ":")).encode()


# MARK: The comparator (spec §12.1)

LABEL = re.compile(r"T\d+")


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def json_equal(a, b) -> bool:
    """JSON value equality: booleans never equal numbers, numbers compare by value (1 == 1.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if is_number(a) or is_number(b):
        return is_number(a) and is_number(b) and a == b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


class Bindings:
    """Timestamp labels (V45): each label binds to one observed value; a later label to a greater one."""

    def __init__(self):
        self.values: dict[str, int] = {}

    def bind(self, label: str, value, path: str, problems: list[str]) -> None:
        if label in self.values and self.values[label] != value:
            problems.append(f"{path}: label {label} is bound to {self.values[label]}, got {value}")
        self.values.setdefault(label, value)

    def order_problems(self) -> list[str]:
        labels = sorted(self.values, key=lambda label: int(label[1:]))
        return [
            f"label {a}={self.values[a]} is not earlier than {b}={self.values[b]}"
            for a, b in zip(labels, labels[1:])
            if not self.values[a] < self.values[b]
        ]


def mismatches(expected, actual, bindings: Bindings | None = None, error: bool = False) -> list[str]:
    """Every way `actual` fails to match `expected` (empty when it matches)."""
    problems: list[str] = []
    bindings = bindings if bindings is not None else Bindings()
    if error and isinstance(expected, dict) and isinstance(actual, dict):
        expected = dict(expected)
        actual = dict(actual)
        if "timestamp" in actual and "timestamp" not in expected:
            expected["timestamp"] = "TS"  # an error document may carry a timestamp
        if isinstance(expected.get("message"), str) and isinstance(actual.get("message"), str):
            if actual["message"].startswith(expected["message"]):
                actual["message"] = expected["message"]
    _compare(expected, actual, "$", None, bindings, problems)
    return problems


def _compare(expected, actual, path: str, key: str | None, bindings: Bindings, problems: list[str]) -> None:
    if key == "timestamp" and isinstance(expected, str) and (expected == "TS" or LABEL.fullmatch(expected)):
        if not (isinstance(actual, int) and not isinstance(actual, bool)):
            problems.append(f"{path}: expected an integer timestamp, got {actual!r}")
        elif expected != "TS":
            bindings.bind(expected, actual, path, problems)
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            problems.append(f"{path}: expected an object, got {_short(actual)}")
            return
        for missing in [k for k in expected if k not in actual]:
            problems.append(f"{path}: missing key {missing!r} (expected {_short(expected[missing])})")
        for extra in [k for k in actual if k not in expected]:
            problems.append(f"{path}: unexpected key {extra!r} = {_short(actual[extra])}")
        for k in expected:
            if k in actual:
                _compare(expected[k], actual[k], f"{path}.{k}", k, bindings, problems)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            problems.append(f"{path}: expected {_short(expected)}, got {_short(actual)}")
            return
        for index, (e, a) in enumerate(zip(expected, actual)):
            _compare(e, a, f"{path}[{index}]", None, bindings, problems)
    elif not json_equal(expected, actual):
        problems.append(f"{path}: expected {expected!r}, got {_short(actual)}")


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, bytes) else repr(value)
    return text if len(text) <= 200 else text[:200] + "…"


def assert_matches(expected, actual, *, bindings: Bindings | None = None, error: bool = False, what: str = "document"):
    problems = mismatches(expected, actual, bindings, error)
    if problems:
        pytest.fail(
            f"{what} does not match:\n  "
            + "\n  ".join(problems[:20])
            + f"\nexpected: {_short(expected)}\nactual:   {_short(actual)}",
            pytrace=False,
        )


# MARK: Admin API over the Unix socket


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, socket_path: str, timeout: float = TIMEOUT):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            pytest.fail(f"HTTP {self.status}: the body is not JSON: {self.body[:300]!r}", pytrace=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class AdminAPI:
    """The daemon's admin API; each request uses its own connection."""

    def __init__(self, socket_path: str | Path):
        self.socket_path = str(socket_path)
        self._clock_thing: str | None = None

    def request(self, method: str, path: str, body: bytes | str | dict | None = None, headers: dict | None = None) -> Reply:
        connection = UnixHTTPConnection(self.socket_path)
        try:
            data = None if body is None else as_bytes(body)
            all_headers = {"Content-Type": "application/json"} if data is not None else {}
            all_headers.update(headers or {})
            connection.request(method, path, body=data, headers=all_headers)
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    @staticmethod
    def shadow_path(thing: str, name: str | None = None) -> str:
        path = f"/v1/things/{quote(thing, safe='')}/shadow"
        return path + (f"?name={quote(name, safe='')}" if name is not None else "")

    def get_shadow(self, thing: str, name: str | None = None) -> Reply:
        return self.request("GET", self.shadow_path(thing, name))

    def update_shadow(self, thing: str, body: bytes | str | dict, name: str | None = None) -> Reply:
        return self.request("POST", self.shadow_path(thing, name), body)

    def delete_shadow(self, thing: str, name: str | None = None) -> Reply:
        return self.request("DELETE", self.shadow_path(thing, name))

    def list_named(self, thing: str, page_size: int | None = None, next_token: str | None = None) -> Reply:
        query = {k: v for k, v in (("pageSize", page_size), ("nextToken", next_token)) if v is not None}
        path = f"/v1/api/things/shadow/ListNamedShadowsForThing/{quote(thing, safe='')}"
        return self.request("GET", path + (f"?{urlencode(query)}" if query else ""))

    def list_shadows(self, thing: str | None = None) -> Reply:
        return self.request("GET", "/v1/shadows" + (f"?{urlencode({'thing': thing})}" if thing is not None else ""))

    def service_time(self) -> int:
        """The service's clock: the timestamp of a REST GET (which publishes nothing) of a private probe shadow."""
        if self._clock_thing is None:
            self._clock_thing = unique("clock")
            reply = self.update_shadow(self._clock_thing, {"state": {"reported": {"probe": True}}})
            assert reply.status == 200, reply.body
        return self.get_shadow(self._clock_thing).json()["timestamp"]

    def document(self, thing: str, name: str | None = None) -> dict | None:
        """The GET document of a shadow, or None when it does not exist (404)."""
        reply = self.get_shadow(thing, name)
        if reply.status == 404:
            return None
        assert reply.status == 200, f"GET {thing}/{name}: HTTP {reply.status} {reply.body[:300]!r}"
        return reply.json()


def assert_rest_error(reply: Reply, code: int, message: str, what: str = "REST reply") -> None:
    """An AWS-style REST error: the status, the x-amzn-ErrorType header, and a body {"message": ...}."""
    assert reply.status == code, f"{what}: expected HTTP {code}, got {reply.status}: {reply.body[:300]!r}"
    assert reply.header("x-amzn-ErrorType") == ERROR_TYPES[code], (
        f"{what}: x-amzn-ErrorType is {reply.header('x-amzn-ErrorType')!r}, expected {ERROR_TYPES[code]}"
    )
    assert_matches({"message": message}, reply.json(), error=True, what=what)


# MARK: MQTT


@dataclass
class ShadowMessage:
    topic: str
    payload: bytes

    def json(self):
        try:
            return json.loads(self.payload)
        except ValueError:
            pytest.fail(f"{self.topic}: the payload is not JSON: {self.payload[:300]!r}", pytrace=False)


def is_reply_topic(topic: str) -> bool:
    return topic.endswith(REPLY_SUFFIXES)


class ShadowClient:
    """A paho client that watches the shadow topics of some things (see the module docstring)."""

    def __init__(self, port: int, version: int = 4):
        self.client_id = unique("shadow-client")
        self._client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=paho.MQTTv5 if version == 5 else paho.MQTTv311,
        )
        self._port = port
        self._condition = threading.Condition()
        self._received: dict[str, list[ShadowMessage]] = defaultdict(list)
        self._taken: dict[str, int] = defaultdict(int)
        self._subacks: dict[int, list[int]] = {}
        self._connected: list = []
        self._watched: set[str] = set()
        self._barrier_thing = unique("barrier")
        self._barriers = 0
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        # The daemon may be killed under us (durability test): never reconnect behind the test's back.
        self._client.reconnect_delay_set(min_delay=60, max_delay=120)

    # Callbacks (paho's network thread)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        with self._condition:
            self._connected.append(int(getattr(reason_code, "value", reason_code)))
            self._condition.notify_all()

    def _on_message(self, client, userdata, message):
        with self._condition:
            self._received[message.topic].append(ShadowMessage(message.topic, bytes(message.payload)))
            self._condition.notify_all()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        with self._condition:
            self._subacks[mid] = [int(getattr(code, "value", code)) for code in reason_codes]
            self._condition.notify_all()

    # Connection

    def connect(self) -> "ShadowClient":
        self._client.connect(HOST, self._port, keepalive=60)
        # paho leaves Nagle on: a PUBLISH right after a PUBACK would wait for a delayed ACK (~40 ms per request).
        self._client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._client.loop_start()
        self.wait_for(lambda: self._connected, "CONNACK")
        assert self._connected[0] == 0, f"CONNACK {self._connected[0]:#x}"
        self._subscribe(f"{shadow_prefix(self._barrier_thing)}/get/rejected")
        return self

    def close(self) -> None:
        try:
            self._client.disconnect()
        except Exception:
            pass
        self._client.loop_stop()

    def wait_for(self, condition: Callable[[], object], what: str, timeout: float = TIMEOUT):
        """Waits (on the message condition, not by polling) until `condition()` is truthy; returns it."""
        with self._condition:
            result = self._condition.wait_for(condition, timeout=timeout)
        if not result:
            pytest.fail(f"{self.client_id}: timed out after {timeout}s waiting for {what}", pytrace=False)
        return result

    def _subscribe(self, topic_filter: str) -> None:
        result, mid = self._client.subscribe(topic_filter, qos=1)
        assert result == paho.MQTT_ERR_SUCCESS, result
        codes = self.wait_for(lambda: self._subacks.get(mid), f"SUBACK for {topic_filter}")
        assert codes == [1], f"SUBACK for {topic_filter}: {codes}"

    def watch(self, *things: str) -> None:
        """Subscribes (QoS 1) to everything under the shadows of `things`, classic and named."""
        for thing in things:
            if thing not in self._watched:
                self._subscribe(f"{shadow_prefix(thing)}/#")
                self._watched.add(thing)

    # Publishing

    def publish(self, topic: str, payload: bytes | str | dict | None = None, wait: bool = True, retain: bool = False):
        """Publishes at QoS 1 (the payload as given: bytes are sent verbatim); waits for the PUBACK if `wait`."""
        info = self._client.publish(topic, as_bytes(payload), qos=1, retain=retain)
        assert info.rc == paho.MQTT_ERR_SUCCESS, f"publish to {topic}: rc {info.rc}"
        if wait:
            info.wait_for_publish(TIMEOUT)
            assert info.is_published(), f"no PUBACK for {topic} within {TIMEOUT}s"
        return info

    # Received messages

    def received(self, topic: str) -> list[ShadowMessage]:
        """Every message received on `topic` so far (taken or not)."""
        with self._condition:
            return list(self._received.get(topic, ()))

    def count(self, topic_matches: Callable[[str], bool]) -> int:
        """How many messages arrived on the topics `topic_matches` accepts (taken or not)."""
        with self._condition:
            return sum(len(messages) for topic, messages in self._received.items() if topic_matches(topic))

    def take(self, topic: str, timeout: float = TIMEOUT) -> ShadowMessage:
        """The next message on `topic` that no earlier `take` returned; waits for it."""
        return self.take_any([topic], timeout)

    def take_any(self, topics: Iterable[str], timeout: float = TIMEOUT) -> ShadowMessage:
        """The next untaken message on whichever of `topics` has one (for "accepted or rejected")."""
        topics = list(topics)

        def ready():
            for topic in topics:
                if len(self._received.get(topic, ())) > self._taken[topic]:
                    return topic
            return None

        topic = self.wait_for(ready, f"a message on {' or '.join(topics)}", timeout)
        with self._condition:
            message = self._received[topic][self._taken[topic]]
            self._taken[topic] += 1
        return message

    def pending(self, thing: str) -> list[ShadowMessage]:
        """The untaken service messages (replies, delta, documents) under the shadows of `thing`."""
        prefix = shadow_prefix(thing) + "/"
        with self._condition:
            return [
                message
                for topic, messages in self._received.items()
                if topic.startswith(prefix) and is_reply_topic(topic)
                for message in messages[self._taken[topic] :]
            ]

    def discard_pending(self, thing: str) -> None:
        prefix = shadow_prefix(thing) + "/"
        with self._condition:
            for topic, messages in self._received.items():
                if topic.startswith(prefix):
                    self._taken[topic] = len(messages)

    def barrier(self) -> None:
        """Returns once the service has answered every request this client published before the call."""
        self._barriers += 1
        token = f"barrier-{self._barriers}"
        topic = f"{shadow_prefix(self._barrier_thing)}/get"
        self.publish(topic, {"clientToken": token}, wait=False)
        while True:
            # Replies to earlier barriers carry older tokens. (Without a token, the next reply is this one: the
            # barriers of one client are answered in order. Tests of the token echo are elsewhere.)
            reply = self.take(topic + "/rejected").json()
            if reply.get("clientToken") in (token, None):
                return

    def assert_quiet(self, *things: str) -> None:
        """After a barrier, nothing untaken is left under `things` (nothing was published that nobody expected)."""
        self.barrier()
        leftovers = [(m.topic, m.payload[:300]) for thing in things for m in self.pending(thing)]
        assert not leftovers, f"unexpected publications: {leftovers}"


# MARK: Fixtures


@dataclass
class ExternalShadowService:
    """A shadow service this suite did not start (MOSS_TEST_SHADOW_SERVICE=PORT:SOCKET)."""

    mqtt_port: int
    admin_socket: str


def external_service() -> ExternalShadowService | None:
    value = os.environ.get("MOSS_TEST_SHADOW_SERVICE")
    if not value:
        return None
    port, socket_path = value.split(":", 1)
    return ExternalShadowService(int(port), socket_path)


def requires_binary() -> None:
    if external_service():
        pytest.skip("needs the moss binary (MOSS_TEST_SHADOW_SERVICE points at an external service)")


@pytest.fixture(scope="module")
def shadow_daemon(request, tmp_path_factory):
    """One daemon per test module (tests use fresh thing names, so they never see each other's shadows)."""
    external = external_service()
    if external:
        yield external
        return
    binary = request.getfixturevalue("moss_binary")
    moss = start_moss(binary, tmp_path_factory.mktemp("shadow") / "data")
    try:
        yield moss
    finally:
        if moss.process.poll() is None:
            status = moss.stop()
            assert status == 0, f"moss exited with {status} on SIGTERM; log:\n{moss.log()}"


@pytest.fixture
def admin(shadow_daemon) -> AdminAPI:
    return AdminAPI(shadow_daemon.admin_socket)


@pytest.fixture
def mqtt(shadow_daemon):
    client = ShadowClient(shadow_daemon.mqtt_port).connect()
    try:
        yield client
    finally:
        client.close()


def wait_for_next_second(after: int, admin: AdminAPI, timeout: float = 5.0) -> None:
    """Blocks until the service's clock has passed the second `after`, so its next timestamp is greater.

    The service's clock, not ours: time(3) on Linux reads a coarse clock that may still say the previous second
    a few milliseconds after ours has moved on."""
    deadline = time.monotonic() + timeout
    while time.time() < after + 1:
        time.sleep(min(0.05, max(0.001, after + 1 - time.time())))
    while admin.service_time() <= after:
        if time.monotonic() > deadline:
            pytest.fail(f"the service's clock did not pass {after} within {timeout}s")
        time.sleep(0.002)
