"""Helpers for the broker integration tests (test_broker_*.py).

- `RawClient`: a tiny MQTT 3.1.1 / 5.0 client over a real socket that sends exactly the bytes a test asks for
  (including malformed ones) and decodes what the broker answers, for the edge cases paho cannot produce.
- `PahoClient`: paho-mqtt 2.1.0 (3.1.1 or 5.0) with its callbacks turned into waitable queues.
- `MosquittoSub` / `mosquitto_pub`: the Debian `mosquitto-clients` command-line tools.
- Daemon helpers on top of conftest.start_moss: a daemon started with a YAML configuration of limits,
  restarted on the same data directory, and `moss status --json`.

Everything waits for conditions with deadlines; nothing synchronises on a bare sleep. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import itertools
import json
import queue
import socket
import ssl
import struct
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import paho.mqtt.client as paho
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from conftest import MossProcess, run_moss, start_moss, wait_until

HOST = "127.0.0.1"
TIMEOUT = 5.0
# How long a test watches to prove that something does NOT happen.
QUIET = 0.4

# Packet types.
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT, AUTH = 8, 9, 10, 11, 12, 13, 14, 15
PACKET_NAMES = {
    1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC", 6: "PUBREL", 7: "PUBCOMP", 8: "SUBSCRIBE",
    9: "SUBACK", 10: "UNSUBSCRIBE", 11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH",
}


class P:
    """MQTT 5.0 property identifiers."""

    PAYLOAD_FORMAT = 0x01
    MESSAGE_EXPIRY = 0x02
    CONTENT_TYPE = 0x03
    RESPONSE_TOPIC = 0x08
    CORRELATION_DATA = 0x09
    SUBSCRIPTION_ID = 0x0B
    SESSION_EXPIRY = 0x11
    ASSIGNED_CLIENT_ID = 0x12
    SERVER_KEEP_ALIVE = 0x13
    AUTH_METHOD = 0x15
    AUTH_DATA = 0x16
    REQUEST_PROBLEM_INFO = 0x17
    WILL_DELAY = 0x18
    REQUEST_RESPONSE_INFO = 0x19
    RESPONSE_INFO = 0x1A
    SERVER_REFERENCE = 0x1C
    REASON_STRING = 0x1F
    RECEIVE_MAXIMUM = 0x21
    TOPIC_ALIAS_MAXIMUM = 0x22
    TOPIC_ALIAS = 0x23
    MAXIMUM_QOS = 0x24
    RETAIN_AVAILABLE = 0x25
    USER_PROPERTY = 0x26
    MAXIMUM_PACKET_SIZE = 0x27
    WILDCARD_AVAILABLE = 0x28
    SUBSCRIPTION_ID_AVAILABLE = 0x29
    SHARED_AVAILABLE = 0x2A


_BYTE = {0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A}
_TWO = {0x13, 0x21, 0x22, 0x23}
_FOUR = {0x02, 0x11, 0x18, 0x27}
_VARINT = {0x0B}
_STRING = {0x03, 0x08, 0x12, 0x15, 0x1A, 0x1C, 0x1F}
_BINARY = {0x09, 0x16}
_PAIR = {0x26}


# MARK: Encoding


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value % 128
        value //= 128
        if value:
            byte |= 0x80
        out.append(byte)
        if not value:
            return bytes(out)


def mqtt_string(value: str | bytes) -> bytes:
    """A length-prefixed string; bytes are sent as they are (to send invalid UTF-8)."""
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack(">H", len(raw)) + raw


def encode_properties(properties: Iterable[tuple[int, object]]) -> bytes:
    body = bytearray()
    for identifier, value in properties:
        body += varint(identifier)
        if identifier in _BYTE:
            body.append(value)
        elif identifier in _TWO:
            body += struct.pack(">H", value)
        elif identifier in _FOUR:
            body += struct.pack(">I", value)
        elif identifier in _VARINT:
            body += varint(value)
        elif identifier in _STRING or identifier in _BINARY:
            body += mqtt_string(value)
        elif identifier in _PAIR:
            body += mqtt_string(value[0]) + mqtt_string(value[1])
        else:
            raise ValueError(f"unknown property {identifier:#x}")
    return varint(len(body)) + bytes(body)


def packet(packet_type: int, flags: int, body: bytes) -> bytes:
    return bytes([packet_type << 4 | flags]) + varint(len(body)) + body


@dataclass
class Will:
    topic: str
    payload: bytes = b"will"
    qos: int = 0
    retain: bool = False
    properties: list = field(default_factory=list)


def connect_packet(
    client_id: str | bytes,
    version: int = 5,
    clean: bool = True,
    keepalive: int = 60,
    properties: Iterable[tuple[int, object]] = (),
    will: Will | None = None,
    username: str | None = None,
    password: bytes | None = None,
    protocol_name: str = "MQTT",
) -> bytes:
    flags = (clean << 1) | ((will is not None) << 2)
    if will:
        flags |= will.qos << 3 | will.retain << 5
    if password is not None:
        flags |= 0x40
    if username is not None:
        flags |= 0x80
    body = mqtt_string(protocol_name) + bytes([version, flags]) + struct.pack(">H", keepalive)
    if version == 5:
        body += encode_properties(properties)
    body += mqtt_string(client_id)
    if will:
        if version == 5:
            body += encode_properties(will.properties)
        body += mqtt_string(will.topic) + mqtt_string(will.payload)
    if username is not None:
        body += mqtt_string(username)
    if password is not None:
        body += mqtt_string(password)
    return packet(CONNECT, 0, body)


def publish_packet(
    topic: str | bytes,
    payload: bytes = b"",
    qos: int = 0,
    retain: bool = False,
    dup: bool = False,
    packet_id: int = 0,
    properties: Iterable[tuple[int, object]] = (),
    version: int = 5,
) -> bytes:
    body = mqtt_string(topic)
    if qos:
        body += struct.pack(">H", packet_id)
    if version == 5:
        body += encode_properties(properties)
    return packet(PUBLISH, dup << 3 | qos << 1 | retain, body + payload)


def subscription_options(qos: int = 0, no_local: bool = False, retain_as_published: bool = False, retain_handling: int = 0) -> int:
    return qos | no_local << 2 | retain_as_published << 3 | retain_handling << 4


def subscribe_packet(
    packet_id: int, filters: Iterable[tuple[str | bytes, int]], properties: Iterable[tuple[int, object]] = (), version: int = 5
) -> bytes:
    body = struct.pack(">H", packet_id)
    if version == 5:
        body += encode_properties(properties)
    for topic_filter, options in filters:
        body += mqtt_string(topic_filter) + bytes([options])
    return packet(SUBSCRIBE, 2, body)


def unsubscribe_packet(packet_id: int, filters: Iterable[str], version: int = 5) -> bytes:
    body = struct.pack(">H", packet_id)
    if version == 5:
        body += encode_properties([])
    for topic_filter in filters:
        body += mqtt_string(topic_filter)
    return packet(UNSUBSCRIBE, 2, body)


def ack_packet(packet_type: int, packet_id: int, reason: int = 0, version: int = 5) -> bytes:
    body = struct.pack(">H", packet_id)
    if version == 5 and reason:
        body += bytes([reason])
    return packet(packet_type, 2 if packet_type == PUBREL else 0, body)


def disconnect_packet(reason: int = 0, properties: Iterable[tuple[int, object]] = (), version: int = 5) -> bytes:
    properties = list(properties)
    if version == 5 and (reason or properties):
        return packet(DISCONNECT, 0, bytes([reason]) + encode_properties(properties))
    return packet(DISCONNECT, 0, b"")


PINGREQ_PACKET = packet(PINGREQ, 0, b"")


# MARK: Decoding


class Properties5(list):
    """Decoded v5 properties: a list of (identifier, value) in wire order."""

    def get(self, identifier: int, default=None):
        for key, value in self:
            if key == identifier:
                return value
        return default

    def all(self, identifier: int) -> list:
        return [value for key, value in self if key == identifier]

    @property
    def user(self) -> list[tuple[str, str]]:
        return self.all(P.USER_PROPERTY)


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.at = 0

    @property
    def left(self) -> int:
        return len(self.data) - self.at

    def take(self, n: int) -> bytes:
        if n > self.left:
            raise ValueError("truncated packet")
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def varint(self) -> int:
        value, multiplier = 0, 1
        for _ in range(4):
            byte = self.byte()
            value += (byte & 0x7F) * multiplier
            if not byte & 0x80:
                return value
            multiplier *= 128
        raise ValueError("malformed variable byte integer")

    def string(self) -> str:
        return self.take(self.u16()).decode()

    def binary(self) -> bytes:
        return self.take(self.u16())

    def properties(self) -> Properties5:
        end = self.varint() + self.at
        result = Properties5()
        while self.at < end:
            identifier = self.varint()
            if identifier in _BYTE:
                value = self.byte()
            elif identifier in _TWO:
                value = self.u16()
            elif identifier in _FOUR:
                value = self.u32()
            elif identifier in _VARINT:
                value = self.varint()
            elif identifier in _STRING:
                value = self.string()
            elif identifier in _BINARY:
                value = self.binary()
            elif identifier in _PAIR:
                value = (self.string(), self.string())
            else:
                raise ValueError(f"unknown property {identifier:#x}")
            result.append((identifier, value))
        return result


@dataclass
class Packet:
    type: int
    flags: int
    raw: bytes
    code: int = 0
    session_present: bool = False
    properties: Properties5 = field(default_factory=Properties5)
    packet_id: int = 0
    topic: str = ""
    payload: bytes = b""
    qos: int = 0
    retain: bool = False
    dup: bool = False
    codes: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return PACKET_NAMES.get(self.type, str(self.type))

    def __repr__(self) -> str:
        details = {
            CONNACK: lambda: f"code={self.code:#x} sp={self.session_present}",
            PUBLISH: lambda: f"topic={self.topic!r} qos={self.qos} retain={self.retain} dup={self.dup} id={self.packet_id} payload={self.payload[:40]!r}",
            SUBACK: lambda: f"id={self.packet_id} codes={[hex(c) for c in self.codes]}",
            DISCONNECT: lambda: f"code={self.code:#x}",
        }.get(self.type, lambda: f"id={self.packet_id} code={self.code:#x}")()
        return f"<{self.name} {details} props={list(self.properties)}>"


def decode_packet(first: int, body: bytes, version: int) -> Packet:
    packet_type, flags = first >> 4, first & 0x0F
    result = Packet(type=packet_type, flags=flags, raw=body)
    reader = _Reader(body)
    v5 = version == 5
    if packet_type == CONNACK:
        result.session_present = bool(reader.byte() & 1)
        result.code = reader.byte()
        if v5 and reader.left:
            result.properties = reader.properties()
    elif packet_type == PUBLISH:
        result.dup, result.qos, result.retain = bool(flags & 8), (flags >> 1) & 3, bool(flags & 1)
        result.topic = reader.string()
        if result.qos:
            result.packet_id = reader.u16()
        if v5:
            result.properties = reader.properties()
        result.payload = reader.take(reader.left)
    elif packet_type in (PUBACK, PUBREC, PUBREL, PUBCOMP):
        result.packet_id = reader.u16()
        if v5 and reader.left:
            result.code = reader.byte()
            if reader.left:
                result.properties = reader.properties()
    elif packet_type in (SUBACK, UNSUBACK):
        result.packet_id = reader.u16()
        if v5:
            result.properties = reader.properties()
        result.codes = list(reader.take(reader.left))
    elif packet_type in (DISCONNECT, AUTH):
        if reader.left:
            result.code = reader.byte()
            if reader.left:
                result.properties = reader.properties()
    return result


# MARK: Raw client


class RawClient:
    """One MQTT connection driven byte by byte. Packets the test did not ask for yet are kept in order."""

    _ids = itertools.count(1)

    def __init__(self, port: int, version: int = 5, tls: ssl.SSLContext | None = None, timeout: float = TIMEOUT):
        self.version = version
        self.port = port
        sock = socket.create_connection((HOST, port), timeout=timeout)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname="localhost")
        self.sock = sock
        self.buffer = b""
        self.eof = False
        self.backlog: list[Packet] = []
        self.next_packet_id = 0

    # Lifecycle

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def abort(self) -> None:
        """Closes the socket abruptly (RST), like a client that crashed."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def packet_id(self) -> int:
        self.next_packet_id = self.next_packet_id % 65535 + 1
        return self.next_packet_id

    # Reading

    def _parse_buffered(self) -> Packet | None:
        if not self.buffer:
            return None
        length, multiplier, index = 0, 1, 1
        while True:
            if index >= len(self.buffer):
                return None
            byte = self.buffer[index]
            length += (byte & 0x7F) * multiplier
            multiplier *= 128
            index += 1
            if not byte & 0x80:
                break
            if index > 4:
                raise AssertionError(f"broker sent a malformed remaining length: {self.buffer[:8]!r}")
        if len(self.buffer) < index + length:
            return None
        first, body = self.buffer[0], self.buffer[index : index + length]
        self.buffer = self.buffer[index + length :]
        return decode_packet(first, body, self.version)

    def _read(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 16)
        except (socket.timeout, TimeoutError):
            raise TimeoutError from None
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            chunk = b""
        if not chunk:
            self.eof = True
        self.buffer += chunk

    def recv(self, timeout: float = TIMEOUT) -> Packet | None:
        """The next packet, or None once the broker closed the connection. Fails on timeout."""
        if self.backlog:
            return self.backlog.pop(0)
        deadline = time.monotonic() + timeout
        while True:
            parsed = self._parse_buffered()
            if parsed is not None:
                return parsed
            if self.eof:
                return None
            try:
                self._read(deadline)
            except TimeoutError:
                pytest.fail(f"no packet from the broker within {timeout}s")

    def expect(self, packet_type: int, timeout: float = TIMEOUT, **match) -> Packet:
        """Waits for the next packet of `packet_type` (matching the given attributes); others stay queued."""
        for index, pending in enumerate(self.backlog):
            if pending.type == packet_type and all(getattr(pending, k) == v for k, v in match.items()):
                return self.backlog.pop(index)
        deadline = time.monotonic() + timeout
        skipped = []
        try:
            while True:
                parsed = self._parse_buffered()
                if parsed is None:
                    if self.eof:
                        pytest.fail(f"connection closed while waiting for {PACKET_NAMES[packet_type]} {match}; got {skipped}")
                    try:
                        self._read(deadline)
                    except TimeoutError:
                        pytest.fail(f"no {PACKET_NAMES[packet_type]} {match} within {timeout}s; got {skipped}")
                    continue
                if parsed.type == packet_type and all(getattr(parsed, k) == v for k, v in match.items()):
                    return parsed
                skipped.append(parsed)
        finally:
            self.backlog.extend(skipped)

    def expect_publish(self, timeout: float = TIMEOUT, **match) -> Packet:
        return self.expect(PUBLISH, timeout, **match)

    def expect_closed(self, timeout: float = TIMEOUT) -> list[Packet]:
        """Waits until the broker closes the connection; returns what it sent before (e.g. a DISCONNECT)."""
        received = list(self.backlog)
        self.backlog.clear()
        deadline = time.monotonic() + timeout
        while True:
            parsed = self._parse_buffered()
            if parsed is not None:
                received.append(parsed)
                continue
            if self.eof:
                return received
            try:
                self._read(deadline)
            except TimeoutError:
                pytest.fail(f"the broker did not close the connection within {timeout}s; got {received}")

    def expect_disconnect(self, reason: int, timeout: float = TIMEOUT) -> Packet:
        """v5: a DISCONNECT with `reason`, then the connection closes."""
        received = self.expect_closed(timeout)
        disconnects = [p for p in received if p.type == DISCONNECT]
        assert disconnects, f"closed without DISCONNECT; got {received}"
        assert disconnects[-1].code == reason, f"DISCONNECT {disconnects[-1].code:#x}, expected {reason:#x}: {disconnects[-1]}"
        return disconnects[-1]

    def assert_quiet(self, duration: float = QUIET, allow: Iterable[int] = ()) -> None:
        """Nothing (other than packet types in `allow`) arrives for `duration`, and the connection stays open."""
        allowed = set(allow)
        unexpected = [p for p in self.backlog if p.type not in allowed]
        assert not unexpected, f"unexpected packets: {unexpected}"
        deadline = time.monotonic() + duration
        while True:
            parsed = self._parse_buffered()
            if parsed is not None:
                assert parsed.type in allowed, f"unexpected packet: {parsed}"
                continue
            assert not self.eof, "the broker closed the connection"
            try:
                self._read(deadline)
            except TimeoutError:
                return

    def is_open(self) -> bool:
        """Whether the broker has not closed the connection (sends a PINGREQ and waits for PINGRESP)."""
        try:
            self.send(PINGREQ_PACKET)
        except OSError:
            return False
        deadline = time.monotonic() + TIMEOUT
        while True:
            parsed = self._parse_buffered()
            if parsed is not None:
                if parsed.type == PINGRESP:
                    return True
                self.backlog.append(parsed)
                continue
            if self.eof:
                return False
            try:
                self._read(deadline)
            except TimeoutError:
                pytest.fail("no PINGRESP and no close within the timeout")

    # Operations

    def connect(
        self,
        client_id: str | bytes | None = None,
        clean: bool = True,
        keepalive: int = 60,
        properties: Iterable[tuple[int, object]] = (),
        will: Will | None = None,
        expect_code: int | None = 0,
        **kwargs,
    ) -> Packet:
        """Sends CONNECT and returns the CONNACK (asserting its code unless `expect_code` is None)."""
        if client_id is None:
            client_id = unique("raw")
        self.client_id = client_id
        self.send(connect_packet(client_id, self.version, clean, keepalive, properties, will, **kwargs))
        connack = self.expect(CONNACK)
        if expect_code is not None:
            assert connack.code == expect_code, f"CONNACK {connack.code:#x}, expected {expect_code:#x}: {connack}"
        return connack

    def subscribe(self, *filters: tuple[str, int] | str, properties: Iterable[tuple[int, object]] = ()) -> Packet:
        """SUBSCRIBE (filter, options) pairs (a bare filter means QoS 0) and return the SUBACK."""
        pairs = [(f, 0) if isinstance(f, str) else f for f in filters]
        packet_id = self.packet_id()
        self.send(subscribe_packet(packet_id, pairs, properties, self.version))
        return self.expect(SUBACK, packet_id=packet_id)

    def unsubscribe(self, *filters: str) -> Packet:
        packet_id = self.packet_id()
        self.send(unsubscribe_packet(packet_id, filters, self.version))
        return self.expect(UNSUBACK, packet_id=packet_id)

    def publish(
        self,
        topic: str | bytes,
        payload: bytes = b"",
        qos: int = 0,
        retain: bool = False,
        properties: Iterable[tuple[int, object]] = (),
        complete: bool = True,
    ) -> Packet | None:
        """PUBLISH; for QoS 1/2 (unless `complete` is False) finishes the flow and returns the PUBACK / PUBREC."""
        packet_id = self.packet_id() if qos else 0
        self.send(publish_packet(topic, payload, qos, retain, False, packet_id, properties, self.version))
        if not qos or not complete:
            return None
        if qos == 1:
            return self.expect(PUBACK, packet_id=packet_id)
        pubrec = self.expect(PUBREC, packet_id=packet_id)
        if pubrec.code < 0x80:
            self.send(ack_packet(PUBREL, packet_id, version=self.version))
            self.expect(PUBCOMP, packet_id=packet_id)
        return pubrec

    def ack(self, publish: Packet) -> None:
        """Acknowledges a received PUBLISH completely (PUBACK, or PUBREC → PUBREL → PUBCOMP)."""
        if publish.qos == 1:
            self.send(ack_packet(PUBACK, publish.packet_id, version=self.version))
        elif publish.qos == 2:
            self.send(ack_packet(PUBREC, publish.packet_id, version=self.version))
            self.expect(PUBREL, packet_id=publish.packet_id)
            self.send(ack_packet(PUBCOMP, publish.packet_id, version=self.version))

    def disconnect(self, reason: int = 0, properties: Iterable[tuple[int, object]] = ()) -> None:
        self.send(disconnect_packet(reason, properties, self.version))
        self.expect_closed()


# MARK: paho-mqtt


@dataclass
class Received:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: object


class PahoClient:
    """A paho-mqtt 2.1.0 client on its own network thread; callbacks feed queues the test waits on."""

    def __init__(
        self,
        port: int,
        client_id: str | None = None,
        version: int = 5,
        clean: bool = True,
        keepalive: int = 60,
        tls: tuple[Path, Path | None, Path | None] | None = None,
        session_expiry: int | None = None,
        will: Will | None = None,
    ):
        self.port = port
        self.version = version
        self.clean = clean
        self.keepalive = keepalive
        self.session_expiry = session_expiry
        self.client_id = unique("paho") if client_id is None else client_id
        protocol = paho.MQTTv5 if version == 5 else paho.MQTTv311
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=protocol,
            clean_session=clean if version != 5 else None,
        )
        self.messages: queue.Queue[Received] = queue.Queue()
        self.connacks: queue.Queue = queue.Queue()
        self.subacks: dict[int, list] = {}
        self.published: set[int] = set()
        self.disconnected = threading.Event()
        self.disconnect_reason = None
        self._lock = threading.Condition()
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_disconnect = self._on_disconnect
        if tls:
            ca, cert, key = tls
            self.client.tls_set(ca_certs=str(ca), certfile=cert and str(cert), keyfile=key and str(key))
        if will:
            will_props = None
            if version == 5 and will.properties:
                will_props = Properties(PacketTypes.WILLMESSAGE)
                for identifier, value in will.properties:
                    if identifier == P.WILL_DELAY:
                        will_props.WillDelayInterval = value
            self.client.will_set(will.topic, will.payload, will.qos, will.retain, properties=will_props)

    # Callbacks (network thread)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.connacks.put((reason_code, flags, properties))

    def _on_message(self, client, userdata, message):
        self.messages.put(
            Received(message.topic, message.payload, message.qos, bool(message.retain), getattr(message, "properties", None))
        )

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        with self._lock:
            self.subacks[mid] = [int(getattr(code, "value", code)) for code in reason_codes]
            self._lock.notify_all()

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._lock:
            self.published.add(mid)
            self._lock.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.disconnect_reason = reason_code
        self.disconnected.set()

    # Operations

    def connect(self, expect_code: int | None = 0, timeout: float = TIMEOUT):
        """Connects and starts the network loop; returns (reason code as int, flags, properties)."""
        properties = None
        if self.version == 5 and self.session_expiry is not None:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = self.session_expiry
        kwargs = {"clean_start": self.clean} if self.version == 5 else {}
        self.client.connect(HOST, self.port, keepalive=self.keepalive, properties=properties, **kwargs)
        self.client.loop_start()
        try:
            reason_code, flags, connack_properties = self.connacks.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"paho {self.client_id}: no CONNACK within {timeout}s")
        code = int(getattr(reason_code, "value", reason_code))
        if expect_code is not None:
            assert code == expect_code, f"paho {self.client_id}: CONNACK {code:#x}, expected {expect_code:#x}"
        return code, flags, connack_properties

    def subscribe(self, topic: str, qos: int = 0, options=None, properties=None, timeout: float = TIMEOUT) -> list[int]:
        """Subscribes and waits for the SUBACK; returns its reason codes."""
        if options is not None:
            result, mid = self.client.subscribe(topic, options=options, properties=properties)
        else:
            result, mid = self.client.subscribe(topic, qos, properties=properties)
        assert result == paho.MQTT_ERR_SUCCESS, result
        with self._lock:
            if not self._lock.wait_for(lambda: mid in self.subacks, timeout=timeout):
                pytest.fail(f"paho {self.client_id}: no SUBACK for {topic} within {timeout}s")
            return self.subacks[mid]

    def publish(self, topic: str, payload: bytes | str = b"", qos: int = 0, retain: bool = False, properties=None, timeout: float = TIMEOUT):
        """Publishes and waits until paho completed the QoS flow (for QoS 0: until the bytes were written)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        assert info.rc == paho.MQTT_ERR_SUCCESS, info.rc
        with self._lock:
            if not self._lock.wait_for(lambda: info.mid in self.published, timeout=timeout):
                pytest.fail(f"paho {self.client_id}: publish to {topic} not completed within {timeout}s")

    def next_message(self, timeout: float = TIMEOUT) -> Received:
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"paho {self.client_id}: no message within {timeout}s")

    def receive(self, count: int, timeout: float = TIMEOUT) -> list[Received]:
        deadline = time.monotonic() + timeout
        got = []
        while len(got) < count:
            try:
                got.append(self.messages.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"paho {self.client_id}: {len(got)} of {count} messages within {timeout}s: {got}")
        return got

    def assert_no_message(self, duration: float = QUIET) -> None:
        try:
            message = self.messages.get(timeout=duration)
        except queue.Empty:
            return
        pytest.fail(f"paho {self.client_id}: unexpected message {message}")

    def disconnect(self) -> None:
        self.client.disconnect()
        self.disconnected.wait(TIMEOUT)
        self.client.loop_stop()

    def close(self) -> None:
        """Stops without DISCONNECT handshake guarantees (teardown)."""
        try:
            self.client.disconnect()
        except Exception:
            pass
        self.client.loop_stop()


class Clients:
    """Tracks the clients a test opens and closes them at teardown."""

    def __init__(self, port: int, tls_port: int | None = None):
        self.port = port
        self.tls_port = tls_port
        self.opened: list = []

    def raw(self, version: int = 5, port: int | None = None, tls: ssl.SSLContext | None = None) -> RawClient:
        client = RawClient(port or self.port, version, tls)
        self.opened.append(client)
        return client

    def connected(self, version: int = 5, client_id: str | None = None, **connect) -> RawClient:
        client = self.raw(version)
        client.connect(client_id, **connect)
        return client

    def paho(self, version: int = 5, connect: bool = True, port: int | None = None, **kwargs) -> PahoClient:
        client = PahoClient(port or self.port, version=version, **kwargs)
        self.opened.append(client)
        if connect:
            client.connect()
        return client

    def close_all(self) -> None:
        for client in reversed(self.opened):
            client.close()
        self.opened.clear()


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# MARK: mosquitto-clients


class MosquittoSub:
    """`mosquitto_sub` in the background; `-d` tells us when its SUBACK came, so publishing never races it."""

    def __init__(self, port: int, topic: str, count: int, version: int = 4, qos: int = 0, tls: tuple | None = None, extra=()):
        args = ["stdbuf", "-oL", "mosquitto_sub", "-h", HOST, "-p", str(port), "-t", topic, "-C", str(count), "-q", str(qos), "-d", "-v", "-W", "20"]
        args += ["-V", "mqttv5" if version == 5 else "mqttv311", "-i", unique("mosqsub")]
        if tls:
            ca, cert, key = tls
            args += ["--cafile", str(ca)]
            if cert:
                args += ["--cert", str(cert), "--key", str(key)]
        args += list(extra)
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _next_line(self, deadline: float, what: str) -> str:
        try:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            pytest.fail(f"mosquitto_sub: no {what} within the timeout; output so far: {self.output}")
        if line is None:
            pytest.fail(f"mosquitto_sub exited ({self.process.poll()}) before {what}; output: {self.output}")
        self.output.append(line)
        return line

    def wait_subscribed(self, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while "received SUBACK" not in self._next_line(deadline, "SUBACK"):
            pass

    def messages(self, timeout: float = TIMEOUT) -> list[str]:
        """Waits until mosquitto_sub exits after its `-C` messages; returns the `topic payload` lines."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"mosquitto_sub did not receive all messages within {timeout}s; output: {self.output}")
        while True:
            line = self.lines.get(timeout=TIMEOUT)
            if line is None:
                break
            self.output.append(line)
        assert self.process.returncode == 0, self.output
        return [line for line in self.output if not line.startswith("Client ") and not line.startswith("Subscribed")]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def mosquitto_pub(port: int, topic: str, message: str, version: int = 4, qos: int = 0, retain: bool = False, tls: tuple | None = None, extra=()):
    args = ["mosquitto_pub", "-h", HOST, "-p", str(port), "-t", topic, "-m", message, "-q", str(qos)]
    args += ["-V", "mqttv5" if version == 5 else "mqttv311", "-i", unique("mosqpub")]
    if retain:
        args.append("-r")
    if tls:
        ca, cert, key = tls
        args += ["--cafile", str(ca)]
        if cert:
            args += ["--cert", str(cert), "--key", str(key)]
    args += list(extra)
    result = subprocess.run(args, capture_output=True, text=True, timeout=20)
    return result


# MARK: The daemon


def yaml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json.dumps(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def write_config(path: Path, limits: dict | None = None, **mqtt) -> Path:
    """A core configuration with `mqtt.limits` and other `mqtt` keys (names as in CoreConfiguration+YAML)."""
    lines = ["mqtt:"]
    for key, value in mqtt.items():
        lines.append(f"  {key}: {yaml_value(value)}")
    if limits:
        lines.append("  limits:")
        for key, value in limits.items():
            lines.append(f"    {key}: {yaml_value(value)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def start_configured(binary: Path, data_dir: Path, limits: dict | None = None, **mqtt) -> MossProcess:
    """Starts moss on free ports with a configuration file (written next to the data directory)."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    config = write_config(data_dir.parent / f"{data_dir.name}.yaml", limits, **mqtt)
    return start_moss(binary, data_dir, "--config", str(config))


def stop_cleanly(moss: MossProcess) -> None:
    if moss.process.poll() is None:
        status = moss.stop()
        assert status == 0, f"moss exited with {status} on SIGTERM; log:\n{moss.log()}"


def status(moss: MossProcess) -> dict:
    return json.loads(moss.moss("status", "--json", check=True).stdout)


def make_device(binary: Path, data_dir: Path, thing: str) -> tuple[Path, Path]:
    run_moss(binary, "certs", "device", thing, "--data-dir", str(data_dir), check=True)
    certs = data_dir / "certs" / "devices"
    return certs / f"{thing}.pem", certs / f"{thing}.key"


def tls_context(ca: Path, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if cert:
        context.load_cert_chain(str(cert), str(key))
    return context


# MARK: Fixtures (test modules import the ones they use)

# The shared daemon of most test modules: default limits, except small values that keep tests fast.
BROKER_LIMITS = {"maximumInflightMessages": 5}


@dataclass
class ExternalBroker:
    """A broker this suite did not start (MOSS_TEST_BROKER_PORT), to check test logic against mosquitto."""

    mqtt_port: int
    mqtts_port: int | None = None


@pytest.fixture(scope="module")
def broker(moss_binary, tmp_path_factory):
    """One daemon shared by a test module (tests use unique client ids and topics)."""
    import os

    if os.environ.get("MOSS_TEST_BROKER_PORT"):
        yield ExternalBroker(int(os.environ["MOSS_TEST_BROKER_PORT"]))
        return
    moss = start_configured(moss_binary, tmp_path_factory.mktemp("broker") / "data", limits=BROKER_LIMITS)
    try:
        yield moss
    finally:
        stop_cleanly(moss)


@pytest.fixture
def clients(broker):
    opened = Clients(broker.mqtt_port, getattr(broker, "mqtts_port", None))
    try:
        yield opened
    finally:
        opened.close_all()


@pytest.fixture
def topic(request) -> str:
    """A topic prefix no other test uses."""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in request.node.name[:40])
    return f"{name}/{uuid.uuid4().hex[:8]}"
