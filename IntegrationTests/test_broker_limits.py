"""Configured limits (YAML core configuration, `mqtt.limits`): maximum keep-alive (v5 Server Keep Alive, 3.1.1
refusal), maximum packet size, CONNECT timeout, queue bound with its drop policy (counted in `moss status`),
maximum connections, and denied subscription filters (SUBACK 0x80 / 0x87)."""

from __future__ import annotations

import threading
import time

import pytest

from broker_helpers import (  # noqa: F401 (fixture)
    CONNACK,
    DISCONNECT,
    P,
    PINGREQ_PACKET,
    Clients,
    PahoClient,
    RawClient,
    connect_packet,
    publish_packet,
    start_configured,
    status,
    stop_cleanly,
    topic,
    unique,
    wait_until,
)

MAX_KEEP_ALIVE = 2
MAX_PACKET_SIZE = 1024
QUEUE_LIMIT = 3
DENIED = ["forbidden/#", "devices/+/secrets"]
CONNECT_TIMEOUT = 0.5
MAX_SESSION_EXPIRY = 30


@pytest.fixture(scope="module")
def limited(moss_binary, tmp_path_factory):
    moss = start_configured(
        moss_binary,
        tmp_path_factory.mktemp("limited") / "data",
        limits={
            "maximumKeepAlive": MAX_KEEP_ALIVE,
            "maximumPacketSize": MAX_PACKET_SIZE,
            "maximumQueuedMessages": QUEUE_LIMIT,
            "queueQoS0WhileOffline": True,
            "connectTimeoutSeconds": CONNECT_TIMEOUT,
            "maximumSessionExpiry": MAX_SESSION_EXPIRY,
        },
        deniedSubscriptionFilters=DENIED,
    )
    try:
        yield moss
    finally:
        stop_cleanly(moss)


@pytest.fixture
def clients(limited):
    opened = Clients(limited.mqtt_port)
    try:
        yield opened
    finally:
        opened.close_all()


def connected(clients, version=5, client_id=None, **kwargs):
    kwargs.setdefault("keepalive", MAX_KEEP_ALIVE)
    return clients.connected(version, client_id, **kwargs)


# MARK: Keep alive


@pytest.mark.parametrize("asked", [60, 0], ids=["above", "zero"])
def test_v5_keep_alive_above_the_maximum_is_answered_with_server_keep_alive(clients, asked):
    client = clients.raw(5)
    connack = client.connect(keepalive=asked)
    assert connack.properties.get(P.SERVER_KEEP_ALIVE) == MAX_KEEP_ALIVE
    # ...and the broker holds the client to it: silent for 1.5 × 2 s → DISCONNECT Keep Alive timeout.
    received = client.expect_closed(timeout=MAX_KEEP_ALIVE * 1.5 + 1.5)
    assert [(p.type, p.code) for p in received] == [(DISCONNECT, 0x8D)]


def test_v5_keep_alive_within_the_maximum_has_no_server_keep_alive(clients):
    connack = clients.raw(5).connect(keepalive=1)
    assert connack.properties.get(P.SERVER_KEEP_ALIVE) is None


@pytest.mark.parametrize("asked", [60, 0], ids=["above", "zero"])
def test_v3_keep_alive_above_the_maximum_is_refused(clients, asked):
    client = clients.raw(4)
    client.connect(keepalive=asked, expect_code=0x02)
    assert client.expect_closed() == []


def test_v3_keep_alive_within_the_maximum_is_accepted(clients):
    clients.raw(4).connect(keepalive=MAX_KEEP_ALIVE)


def test_paho_v3_with_a_long_keep_alive_is_refused(limited):
    paho = PahoClient(limited.mqtt_port, version=4, keepalive=60)
    try:
        code, _, _ = paho.connect(expect_code=None)
        assert code == 0x85  # paho reports 3.1.1 return code 2 (identifier rejected) as 5.0 code 0x85
    finally:
        paho.close()


# MARK: Session expiry


def test_v5_session_expiry_above_the_maximum_is_capped_and_announced(clients):
    capped = clients.raw(5).connect(keepalive=MAX_KEEP_ALIVE, properties=[(P.SESSION_EXPIRY, 3600)])
    assert capped.properties.get(P.SESSION_EXPIRY) == MAX_SESSION_EXPIRY
    within = clients.raw(5).connect(keepalive=MAX_KEEP_ALIVE, properties=[(P.SESSION_EXPIRY, 10)])
    assert within.properties.get(P.SESSION_EXPIRY) is None


# MARK: Maximum packet size


def test_connack_announces_the_configured_maximum_packet_size(clients):
    assert clients.raw(5).connect().properties.get(P.MAXIMUM_PACKET_SIZE) == MAX_PACKET_SIZE


@pytest.mark.parametrize("version", [4, 5], ids=["v3.1.1", "v5"])
def test_a_packet_over_the_maximum_closes_the_connection(clients, topic, version):
    watcher = connected(clients, 5)
    watcher.subscribe(topic)
    sender = connected(clients, version)
    fits = publish_packet(topic, b"a" * (MAX_PACKET_SIZE - 200), version=version)
    assert len(fits) <= MAX_PACKET_SIZE
    sender.send(fits)
    assert watcher.expect_publish().payload == b"a" * (MAX_PACKET_SIZE - 200)

    too_big = publish_packet(topic, b"b" * MAX_PACKET_SIZE, version=version)
    sender.send(too_big)
    received = sender.expect_closed()
    if version == 5:
        assert [(p.type, p.code) for p in received] == [(DISCONNECT, 0x95)]  # Packet too large
    else:
        assert received == []
    watcher.assert_quiet()
    assert watcher.is_open()


def test_a_connect_over_the_maximum_is_refused_before_it_is_buffered(clients):
    client = clients.raw(4)
    client.send(connect_packet("x" * (MAX_PACKET_SIZE + 10), version=4)[:64])  # only the start of it
    assert client.expect_closed(timeout=2) == []


# MARK: CONNECT timeout


def test_a_socket_that_never_sends_connect_is_closed(clients):
    client = clients.raw(4)
    opened = time.monotonic()
    assert client.expect_closed(timeout=CONNECT_TIMEOUT + 2) == []
    assert time.monotonic() - opened >= CONNECT_TIMEOUT * 0.8


def test_a_half_sent_connect_is_closed(clients):
    client = clients.raw(4)
    client.send(connect_packet("slowloris", version=4)[:7])
    assert client.expect_closed(timeout=CONNECT_TIMEOUT + 2) == []


def test_the_connect_timeout_does_not_touch_connected_clients(clients):
    client = connected(clients, 4)
    client.assert_quiet(duration=CONNECT_TIMEOUT + 0.3)
    assert client.is_open()


# MARK: Queue bound and drop policy


def dropped(moss) -> int:
    return status(moss)["messages"]["dropped"]


def test_offline_queue_drops_oldest_qos0_first_and_counts_it(limited, clients, topic):
    client_id = unique("queued")
    persistent = {"clean": False, "properties": [(P.SESSION_EXPIRY, 60)]}
    subscriber = connected(clients, 5, client_id, **persistent)
    subscriber.subscribe((topic, 1))
    subscriber.disconnect()
    before = dropped(limited)

    publisher = connected(clients, 5)
    for payload, qos in [(b"A", 1), (b"B", 0), (b"C", 1), (b"D", 0), (b"E", 1)]:
        publisher.publish(topic, payload, qos=qos)
    # Queue of 3: D pushed out B (oldest QoS 0), E pushed out D; the QoS 1 messages all stay.
    wait_until(lambda: dropped(limited) - before == 2, "moss status counts 2 dropped messages")

    back = clients.raw(5)
    assert back.connect(client_id, keepalive=MAX_KEEP_ALIVE, **persistent).session_present
    got = [back.expect_publish() for _ in range(3)]
    assert [m.payload for m in got] == [b"A", b"C", b"E"]
    for message in got:
        back.ack(message)
    back.assert_quiet()


def test_offline_queue_of_qos1_drops_the_oldest(limited, clients, topic):
    client_id = unique("queued1")
    persistent = {"clean": False, "properties": [(P.SESSION_EXPIRY, 60)]}
    subscriber = connected(clients, 5, client_id, **persistent)
    subscriber.subscribe((topic, 1))
    subscriber.disconnect()
    before = dropped(limited)
    publisher = connected(clients, 5)
    for i in range(5):
        publisher.publish(topic, f"m{i}".encode(), qos=1)
    wait_until(lambda: dropped(limited) - before == 2, "moss status counts 2 dropped messages")
    back = clients.raw(5)
    back.connect(client_id, keepalive=MAX_KEEP_ALIVE, **persistent)
    assert [back.expect_publish().payload for _ in range(3)] == [b"m2", b"m3", b"m4"]


def test_online_queue_behind_a_full_window_drops_qos0_first(limited, clients, topic):
    """A connected client that does not acknowledge: window of 1, then the queue of 3 behind it."""
    subscriber = clients.raw(5)
    subscriber.connect(keepalive=MAX_KEEP_ALIVE, properties=[(P.RECEIVE_MAXIMUM, 1)])
    subscriber.subscribe((topic, 1))
    before = dropped(limited)
    publisher = connected(clients, 5)
    for payload, qos in [(b"A", 1), (b"B", 1), (b"C", 0), (b"D", 1), (b"E", 0), (b"F", 1)]:
        publisher.publish(topic, payload, qos=qos)
    # A in flight; queue B C D, then E pushes out C, F pushes out E.
    wait_until(lambda: dropped(limited) - before == 2, "moss status counts 2 dropped messages")
    received = []
    for _ in range(4):
        message = subscriber.expect_publish()
        received.append(message.payload)
        subscriber.ack(message)
    assert received == [b"A", b"B", b"D", b"F"]
    subscriber.assert_quiet()


# MARK: Denied subscription filters


@pytest.mark.parametrize("version,refused", [(4, 0x80), (5, 0x87)], ids=["v3.1.1", "v5"])
def test_denied_subscription_filters_are_refused(clients, topic, version, refused):
    client = connected(clients, version)
    suback = client.subscribe(
        ("forbidden/x", 1), (f"{topic}/ok", 1), ("devices/d1/secrets", 0), ("devices/+/secrets", 0), ("#", 0), (f"{topic}/+", 2)
    )
    # `#` overlaps the denied filters, so it is refused too; unrelated filters are granted.
    assert suback.codes == [refused, 1, refused, refused, refused, 2]
    if version == 5:
        assert "not authorized" in suback.properties.get(P.REASON_STRING, "")
    # A refused subscription receives nothing.
    publisher = connected(clients, version)
    publisher.publish("forbidden/x", b"secret", qos=1)
    publisher.publish(f"{topic}/ok", b"fine", qos=1)
    assert client.expect_publish().payload == b"fine"


def test_paho_sees_denied_subscription(limited, topic):
    paho = PahoClient(limited.mqtt_port, version=5, keepalive=MAX_KEEP_ALIVE)
    try:
        paho.connect()
        assert paho.subscribe("forbidden/#", qos=1) == [0x87]
        assert paho.subscribe(f"{topic}/x", qos=1) == [1]
    finally:
        paho.close()


# MARK: Maximum connections


def test_maximum_connections(moss_binary, tmp_path):
    moss = start_configured(moss_binary, tmp_path / "data", limits={"maximumConnections": 3})
    opened = Clients(moss.mqtt_port)
    try:
        first = opened.connected(4)
        opened.connected(5)
        opened.connected(4)
        # The fourth socket is closed at accept, before any CONNACK.
        refused = opened.raw(4)
        try:
            refused.send(connect_packet(unique("fourth"), version=4))
        except OSError:
            pass
        assert [p for p in refused.expect_closed() if p.type == CONNACK] == []
        assert first.is_open()

        # A slot frees up when a client leaves.
        first.disconnect()

        def fourth_connects():
            client = RawClient(moss.mqtt_port, 4)
            opened.opened.append(client)
            try:
                client.send(connect_packet(unique("again"), version=4))
            except OSError:
                return False
            answer = client.recv(timeout=2)
            return answer is not None and answer.type == CONNACK and answer.code == 0

        wait_until(fourth_connects, "a new client connects after one left")
    finally:
        opened.close_all()
        stop_cleanly(moss)


def test_a_stuck_subscriber_does_not_throttle_other_subscribers(limited, clients, topic):
    """Back-pressure may pause a publisher briefly, but once the stuck client's queue is full its bound (drop
    oldest, counted) takes over: the other subscribers keep getting the stream at full speed."""
    stuck = clients.raw(5)
    stuck.connect(keepalive=MAX_KEEP_ALIVE, properties=[(P.RECEIVE_MAXIMUM, 1)])
    stuck.subscribe((topic, 1))
    # The stuck client stays connected (it pings) but never acknowledges anything.
    done = threading.Event()

    def keep_pinging():
        while not done.wait(0.5):
            try:
                stuck.send(PINGREQ_PACKET)
            except OSError:
                return

    pinger = threading.Thread(target=keep_pinging, daemon=True)
    pinger.start()
    try:
        healthy = PahoClient(limited.mqtt_port, version=5, keepalive=MAX_KEEP_ALIVE)
        clients.opened.append(healthy)
        healthy.connect()
        healthy.subscribe(topic, qos=1)
        publisher = clients.paho(5, keepalive=MAX_KEEP_ALIVE)
        started = time.monotonic()
        for i in range(20):
            publisher.publish(topic, f"{i}".encode(), qos=1, timeout=30)
        assert [m.payload for m in healthy.receive(20, timeout=30)] == [f"{i}".encode() for i in range(20)]
        elapsed = time.monotonic() - started
        assert elapsed < 3, f"20 messages took {elapsed:.1f}s to reach a healthy subscriber"
    finally:
        done.set()
        pinger.join()
