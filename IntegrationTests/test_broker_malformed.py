"""Malformed and hostile input: each case closes only the offending connection (v5: after a DISCONNECT with
the reason code, when the client had connected), while a client that was already connected keeps working."""

from __future__ import annotations

import struct

import pytest

from broker_helpers import (  # noqa: F401 (fixtures)
    CONNACK,
    DISCONNECT,
    broker,
    clients,
    connect_packet,
    mqtt_string,
    packet,
    publish_packet,
    subscribe_packet,
    topic,
    unique,
)


@pytest.fixture
def canary(clients, topic):
    """A connected subscriber/publisher pair that must keep working whatever another connection sends."""
    subscriber = clients.paho(5)
    subscriber.subscribe(f"{topic}/canary", qos=1)
    publisher = clients.paho(4)

    def still_works(tag: str) -> None:
        publisher.publish(f"{topic}/canary", tag.encode(), qos=1)
        assert subscriber.next_message().payload == tag.encode()

    still_works("before")
    return still_works


def assert_closed_by_broker(client, version: int, disconnect_reason: int | None) -> None:
    received = client.expect_closed()
    disconnects = [(p.type, p.code) for p in received if p.type == DISCONNECT]
    if version == 5 and disconnect_reason is not None:
        assert disconnects == [(DISCONNECT, disconnect_reason)], received
    else:
        assert disconnects == [], received


# Bytes sent before any CONNECT.
BEFORE_CONNECT = {
    "publish-before-connect": publish_packet("a/b", b"x", version=4),
    "subscribe-before-connect": subscribe_packet(1, [("a/#", 0)], version=4),
    "pingreq-before-connect": packet(12, 0, b""),
    "reserved-packet-type-0": bytes([0x00, 0x00]),
    "huge-declared-connect": b"\x10\xff\xff\xff\x7f",  # 268,435,455 bytes announced, never sent
    "remaining-length-five-bytes": b"\x10\xff\xff\xff\xff\x01",
    "connect-with-flags": bytes([0x11]) + connect_packet("x", version=4)[1:],
    "unknown-protocol-name": connect_packet("x", version=4, protocol_name="MQIsdp"),
    "connect-reserved-flag": (lambda p: p[:9] + bytes([p[9] | 0x01]) + p[10:])(connect_packet("x", version=4)),
    "client-id-invalid-utf8": connect_packet(b"\xc3\x28", version=4),
    "client-id-with-nul": connect_packet(b"a\x00b", version=4),
    "will-qos-3": (lambda p: p[:9] + bytes([p[9] | 0x18]) + p[10:])(connect_packet("x", version=4)),
    "password-without-username": connect_packet("x", version=4, password=b"secret"),
    "truncated-connect": packet(1, 0, mqtt_string("MQTT") + bytes([4])),
}


@pytest.mark.parametrize("name", BEFORE_CONNECT)
def test_bad_bytes_before_connect_close_only_that_connection(clients, canary, name):
    client = clients.raw(4)
    client.send(BEFORE_CONNECT[name])
    received = client.expect_closed(timeout=3)
    assert [p for p in received if p.type == CONNACK and p.code == 0] == []
    canary(name)


@pytest.mark.parametrize("level,version,code", [(3, 4, 0x01), (6, 4, 0x01), (5, 5, None)], ids=["level-3", "level-6", "v5-ok"])
def test_unsupported_protocol_level_gets_connack_0x01(clients, canary, level, version, code):
    client = clients.raw(version)
    body = connect_packet("levels", version=5 if level == 5 else 4)
    client.send(body[:8] + bytes([level]) + body[9:])
    connack = client.expect(CONNACK)
    if code is None:
        assert connack.code == 0
        return
    assert connack.code == code
    assert client.expect_closed() == []
    canary(f"level {level}")


# Bytes sent after a successful CONNECT: (bytes for 3.1.1, bytes for 5.0, v5 DISCONNECT reason).
def _after_connect(version: int) -> dict:
    v = version
    return {
        "remaining-length-five-bytes": (b"\x30\xff\xff\xff\xff\x01", 0x81),
        "second-connect": (connect_packet(unique("again"), version=v), 0x82),
        "wildcard-in-publish-topic": (publish_packet("a/+/b", b"x", version=v), 0x90),
        "hash-in-publish-topic": (publish_packet("a/#", b"x", version=v), 0x90),
        "invalid-utf8-topic": (publish_packet(b"a/\xff\xfe", b"x", version=v), 0x81),
        "overlong-utf8-topic": (publish_packet(b"a/\xc0\xaf", b"x", version=v), 0x81),
        "surrogate-in-topic": (publish_packet(b"a/\xed\xa0\x80", b"x", version=v), 0x81),
        "nul-in-topic": (publish_packet(b"a/\x00", b"x", version=v), 0x81),
        "qos-3-publish": (bytes([0x36]) + publish_packet("a", b"x", qos=1, packet_id=1, version=v)[1:], 0x81),
        "publish-qos1-packet-id-0": (publish_packet("a", b"x", qos=1, packet_id=0, version=v), 0x82),
        "subscribe-wrong-flags": (bytes([0x80]) + subscribe_packet(1, [("a", 0)], version=v)[1:], 0x81),
        "subscribe-without-filters": (subscribe_packet(1, [], version=v), 0x82),
        "subscribe-options-qos-3": (subscribe_packet(1, [("a", 3)], version=v), 0x81),
        "subscribe-reserved-option-bits": (subscribe_packet(1, [("a", 0xC0)], version=v), 0x81),
        "pubrel-wrong-flags": (packet(6, 0, struct.pack(">H", 1)), 0x81),
        "puback-too-long-v3": (packet(4, 0, struct.pack(">HB", 1, 0)) if v == 4 else packet(4, 0, b"\x00"), 0x81),
        "connack-from-client": (packet(2, 0, b"\x00\x00"), 0x82),
        "pingreq-with-body": (packet(12, 0, b"\x00"), 0x81),
        "reserved-packet-type-0": (bytes([0x00, 0x00]), 0x81),
        "unsubscribe-without-filters": (packet(10, 2, struct.pack(">H", 1) + (b"\x00" if v == 5 else b"")), 0x82),
    }


AFTER_CONNECT_CASES = list(_after_connect(4))


@pytest.mark.parametrize("version", [4, 5], ids=["v3.1.1", "v5"])
@pytest.mark.parametrize("name", AFTER_CONNECT_CASES)
def test_bad_packets_after_connect_close_only_that_connection(clients, canary, name, version):
    data, reason = _after_connect(version)[name]
    client = clients.connected(version)
    client.send(data)
    assert_closed_by_broker(client, version, reason)
    canary(name)


def test_v3_invalid_subscription_filter_closes_the_connection(clients, canary):
    client = clients.connected(4)
    client.send(subscribe_packet(1, [("a/#/b", 0)], version=4))
    assert client.expect_closed() == []
    canary("bad filter")


def test_v5_duplicate_or_misplaced_properties_are_protocol_errors(clients, canary):
    # Message Expiry Interval twice in a PUBLISH.
    duplicate = clients.connected(5)
    props = bytes([0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 1])
    duplicate.send(packet(3, 0, mqtt_string("a") + bytes([len(props)]) + props + b"x"))
    assert_closed_by_broker(duplicate, 5, 0x82)
    # Session Expiry Interval is not a PUBLISH property.
    misplaced = clients.connected(5)
    props = bytes([0x11, 0, 0, 0, 1])
    misplaced.send(packet(3, 0, mqtt_string("a") + bytes([len(props)]) + props + b"x"))
    assert_closed_by_broker(misplaced, 5, 0x82)
    canary("properties")


def test_many_bad_connections_leave_the_broker_serving(broker, clients, canary):
    for i in range(30):
        client = clients.raw(4)
        client.send(b"\x10\xff\xff\xff\x7f" if i % 2 else b"\x30\x00")
        client.expect_closed(timeout=3)
    canary("after 30 bad connections")
    if hasattr(broker, "process"):
        assert broker.process.poll() is None
