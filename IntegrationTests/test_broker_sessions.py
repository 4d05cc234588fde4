"""Sessions: clean and persistent (3.1.1 clean session, 5.0 session expiry), in-flight windows and redelivery
with DUP, session takeover, assigned client ids, wills (incl. 5.0 will delay), keep-alive enforcement."""

from __future__ import annotations

import time

import pytest

from broker_helpers import (  # noqa: F401 (fixtures)
    DISCONNECT,
    PUBACK,
    PUBCOMP,
    PUBREC,
    PUBREL,
    QUIET,
    P,
    Will,
    ack_packet,
    broker,
    clients,
    disconnect_packet,
    topic,
    unique,
)

VERSIONS = [pytest.param(4, id="v3.1.1"), pytest.param(5, id="v5")]


def persistent(version: int, expiry: int = 60) -> dict:
    """CONNECT arguments for a session that outlives the connection."""
    if version == 5:
        return {"clean": False, "properties": [(P.SESSION_EXPIRY, expiry)]}
    return {"clean": False}


# MARK: Clean and persistent sessions


@pytest.mark.parametrize("version", VERSIONS)
def test_clean_session_forgets_everything(clients, topic, version):
    client_id = unique("clean")
    first = clients.connected(version, client_id, clean=True)
    first.subscribe((topic, 1))
    first.disconnect()

    publisher = clients.connected(version)
    publisher.publish(topic, b"while away", qos=1)

    again = clients.raw(version)
    assert again.connect(client_id, clean=True).session_present is False
    again.assert_quiet()  # nothing queued
    publisher.publish(topic, b"after", qos=1)
    again.assert_quiet()  # and no subscription left


@pytest.mark.parametrize("version", VERSIONS)
def test_persistent_session_keeps_subscriptions_and_queues_qos1(clients, topic, version):
    client_id = unique("persist")
    first = clients.raw(version)
    assert first.connect(client_id, **persistent(version)).session_present is False
    first.subscribe((topic, 1))
    first.disconnect()

    publisher = clients.connected(version)
    publisher.publish(topic, b"q1-a", qos=1)
    publisher.publish(topic, b"q0", qos=0)  # QoS 0 is not queued for offline sessions (default)
    publisher.publish(topic, b"q1-b", qos=1)

    again = clients.raw(version)
    assert again.connect(client_id, **persistent(version)).session_present is True
    queued = [again.expect_publish() for _ in range(2)]
    assert [(m.payload, m.qos) for m in queued] == [(b"q1-a", 1), (b"q1-b", 1)]
    for message in queued:
        again.ack(message)
    again.assert_quiet()
    # The subscription survived too.
    publisher.publish(topic, b"live", qos=1)
    assert again.expect_publish().payload == b"live"


def test_v5_clean_start_discards_a_persistent_session(clients, topic):
    client_id = unique("cs")
    first = clients.raw(5)
    first.connect(client_id, **persistent(5))
    first.subscribe((topic, 1))
    first.disconnect()
    clients.connected(5).publish(topic, b"queued", qos=1)

    again = clients.raw(5)
    assert again.connect(client_id, clean=True, properties=[(P.SESSION_EXPIRY, 60)]).session_present is False
    again.assert_quiet()


def test_v5_session_expiry_zero_ends_the_session_with_the_connection(clients, topic):
    client_id = unique("se0")
    first = clients.raw(5)
    first.connect(client_id, clean=False)  # no Session Expiry Interval property: 0
    first.subscribe((topic, 1))
    first.disconnect()
    again = clients.raw(5)
    assert again.connect(client_id, clean=False).session_present is False


def test_v5_session_expires_after_its_interval(clients, topic):
    client_id = unique("expiring")
    first = clients.raw(5)
    first.connect(client_id, **persistent(5, expiry=1))
    first.subscribe((topic, 1))
    first.disconnect()
    disconnected = time.monotonic()
    publisher = clients.connected(5)
    publisher.publish(topic, b"queued", qos=1)

    # Before the interval: the session (and its queued message) is there.
    early = clients.raw(5)
    assert early.connect(client_id, **persistent(5, expiry=1)).session_present is True
    early.ack(early.expect_publish())
    early.disconnect()
    disconnected = time.monotonic()
    publisher.publish(topic, b"lost with the session", qos=1)

    # After it (1 s, plus margin): gone.
    time.sleep(max(0.0, disconnected + 1.6 - time.monotonic()))
    late = clients.raw(5)
    assert late.connect(client_id, clean=False).session_present is False
    late.assert_quiet()


def test_v5_disconnect_can_shorten_the_session_expiry(clients, topic):
    client_id = unique("se-disc")
    first = clients.raw(5)
    first.connect(client_id, **persistent(5, expiry=300))
    first.subscribe((topic, 1))
    first.disconnect(properties=[(P.SESSION_EXPIRY, 0)])
    again = clients.raw(5)
    assert again.connect(client_id, clean=False).session_present is False


def test_v5_disconnect_may_not_set_expiry_after_zero_at_connect(clients):
    client = clients.connected(5)  # Session Expiry 0
    client.send(disconnect_packet(0, [(P.SESSION_EXPIRY, 30)]))
    client.expect_disconnect(0x82)  # Protocol Error (MQTT-3.14.2-2)


# MARK: In-flight window and redelivery


@pytest.mark.parametrize("version", VERSIONS)
def test_unacknowledged_qos1_is_redelivered_with_dup_after_reconnect(clients, topic, version):
    client_id = unique("dup")
    subscriber = clients.raw(version)
    subscriber.connect(client_id, **persistent(version))
    subscriber.subscribe((topic, 1))
    clients.connected(version).publish(topic, b"must arrive", qos=1)
    first = subscriber.expect_publish()
    assert (first.payload, first.dup) == (b"must arrive", False)
    subscriber.abort()  # no PUBACK

    again = clients.raw(version)
    assert again.connect(client_id, **persistent(version)).session_present is True
    redelivered = again.expect_publish()
    assert (redelivered.payload, redelivered.dup, redelivered.packet_id, redelivered.qos) == (
        b"must arrive", True, first.packet_id, 1,
    )
    again.send(ack_packet(PUBACK, redelivered.packet_id, version=version))
    again.disconnect()

    # Acknowledged now: not sent a third time.
    third = clients.raw(version)
    assert third.connect(client_id, **persistent(version)).session_present is True
    third.assert_quiet()


@pytest.mark.parametrize("version", VERSIONS)
def test_qos2_redelivery_resumes_where_the_flow_stopped(clients, topic, version):
    client_id = unique("q2")
    subscriber = clients.raw(version)
    subscriber.connect(client_id, **persistent(version))
    subscriber.subscribe((topic, 2))
    publisher = clients.connected(version)
    publisher.publish(topic, b"first", qos=2)
    publisher.publish(topic, b"second", qos=2)
    one = subscriber.expect_publish()
    two = subscriber.expect_publish()
    # PUBREC only the first one: the broker answers PUBREL, which the client never completes.
    subscriber.send(ack_packet(PUBREC, one.packet_id, version=version))
    subscriber.expect(PUBREL, packet_id=one.packet_id)
    subscriber.abort()

    again = clients.raw(version)
    assert again.connect(client_id, **persistent(version)).session_present is True
    # First: only the PUBREL is resent (the message was received). Second: the PUBLISH again, with DUP.
    again.expect(PUBREL, packet_id=one.packet_id)
    resent = again.expect_publish()
    assert (resent.payload, resent.dup, resent.packet_id) == (b"second", True, two.packet_id)
    again.send(ack_packet(PUBCOMP, one.packet_id, version=version))
    again.ack(resent)
    again.assert_quiet()


def test_in_flight_window_honours_the_client_receive_maximum(clients, topic):
    subscriber = clients.raw(5)
    subscriber.connect(properties=[(P.RECEIVE_MAXIMUM, 2)])
    subscriber.subscribe((topic, 1))
    publisher = clients.connected(5)
    for i in range(5):
        publisher.publish(topic, f"m{i}".encode(), qos=1)

    window = [subscriber.expect_publish(), subscriber.expect_publish()]
    assert [m.payload for m in window] == [b"m0", b"m1"]
    subscriber.assert_quiet()  # two unacknowledged: the window is full
    subscriber.ack(window[0])
    third = subscriber.expect_publish()
    assert third.payload == b"m2"
    subscriber.assert_quiet()
    for message in (window[1], third):
        subscriber.ack(message)
    rest = [subscriber.expect_publish(), subscriber.expect_publish()]
    assert [m.payload for m in rest] == [b"m3", b"m4"]


def test_in_flight_window_is_capped_by_the_broker_limit(clients, topic):
    """A 3.1.1 client has no Receive Maximum: the broker's maximumInflightMessages (5 here) applies."""
    subscriber = clients.connected(4)
    subscriber.subscribe((topic, 1))
    publisher = clients.connected(4)
    for i in range(8):
        publisher.publish(topic, f"m{i}".encode(), qos=1)
    window = [subscriber.expect_publish() for _ in range(5)]
    subscriber.assert_quiet()
    for message in window:
        subscriber.ack(message)
    assert [subscriber.expect_publish().payload for _ in range(3)] == [b"m5", b"m6", b"m7"]


# MARK: Takeover and client identifiers


@pytest.mark.parametrize("version", VERSIONS)
def test_session_takeover_closes_the_old_connection(clients, topic, version):
    client_id = unique("takeover")
    old = clients.raw(version)
    old.connect(client_id, **persistent(version))
    old.subscribe((topic, 1))

    new = clients.raw(version)
    assert new.connect(client_id, **persistent(version)).session_present is True
    received = old.expect_closed()
    if version == 5:
        assert [(p.type, p.code) for p in received] == [(DISCONNECT, 0x8E)]  # Session taken over
    else:
        assert received == []
    # The new connection owns the session, subscriptions included.
    clients.connected(version).publish(topic, b"to the new one", qos=1)
    assert new.expect_publish().payload == b"to the new one"


def test_v5_empty_client_id_gets_an_assigned_identifier(broker, clients):
    client = clients.raw(5)
    connack = client.connect(b"")
    assigned = connack.properties.get(P.ASSIGNED_CLIENT_ID)
    assert assigned, connack
    other = clients.raw(5)
    assert other.connect(b"").properties.get(P.ASSIGNED_CLIENT_ID) != assigned
    if hasattr(broker, "moss"):
        from broker_helpers import status

        assert assigned in [c["clientID"] for c in status(broker)["clients"]]


def test_v3_empty_client_id_with_clean_session_is_accepted(clients, topic):
    client = clients.raw(4)
    connack = client.connect(b"", clean=True)
    assert (connack.code, connack.session_present) == (0, False)
    client.subscribe(topic)
    clients.connected(4).publish(topic, b"works", qos=1)
    assert client.expect_publish().payload == b"works"


def test_v3_empty_client_id_without_clean_session_is_refused(clients):
    client = clients.raw(4)
    connack = client.connect(b"", clean=False, expect_code=0x02)  # Identifier rejected
    assert connack.session_present is False
    assert client.expect_closed() == []


# MARK: Wills


@pytest.mark.parametrize("version", VERSIONS)
def test_will_is_published_when_the_connection_breaks(clients, topic, version):
    watcher = clients.connected(version)
    watcher.subscribe((f"{topic}/will", 1))
    dying = clients.raw(version)
    dying.connect(will=Will(f"{topic}/will", b"gone", qos=1, retain=True))
    dying.abort()
    will = watcher.expect_publish()
    assert (will.topic, will.payload, will.qos) == (f"{topic}/will", b"gone", 1)
    watcher.ack(will)
    # A retained will is retained.
    late = clients.connected(version)
    late.subscribe(f"{topic}/will")
    assert late.expect_publish().retain is True


@pytest.mark.parametrize("version", VERSIONS)
def test_no_will_after_a_normal_disconnect(clients, topic, version):
    watcher = clients.connected(version)
    watcher.subscribe(f"{topic}/will")
    leaving = clients.raw(version)
    leaving.connect(will=Will(f"{topic}/will", b"should not be sent"))
    leaving.disconnect()
    watcher.assert_quiet()


def test_v5_disconnect_with_will_message_sends_the_will(clients, topic):
    watcher = clients.connected(5)
    watcher.subscribe(f"{topic}/will")
    leaving = clients.raw(5)
    leaving.connect(will=Will(f"{topic}/will", b"asked for", properties=[(P.USER_PROPERTY, ("k", "v"))]))
    leaving.disconnect(reason=0x04)
    will = watcher.expect_publish()
    assert will.payload == b"asked for"
    assert will.properties.user == [("k", "v")]  # will properties travel with it


@pytest.mark.parametrize("version", VERSIONS)
def test_will_of_a_taken_over_connection_is_published(clients, topic, version):
    watcher = clients.connected(version)
    watcher.subscribe(f"{topic}/will")
    client_id = unique("will-takeover")
    old = clients.raw(version)
    old.connect(client_id, will=Will(f"{topic}/will", b"taken over"))
    clients.connected(version, client_id)
    old.expect_closed()
    assert watcher.expect_publish().payload == b"taken over"


def test_v5_will_delay_sends_the_will_after_the_delay(clients, topic):
    watcher = clients.connected(5)
    watcher.subscribe(f"{topic}/will")
    dying = clients.raw(5)
    dying.connect(
        properties=[(P.SESSION_EXPIRY, 30)],
        will=Will(f"{topic}/will", b"delayed", properties=[(P.WILL_DELAY, 1)]),
    )
    dying.abort()
    closed = time.monotonic()
    watcher.assert_quiet()  # not at once
    will = watcher.expect_publish(timeout=3)
    assert will.payload == b"delayed"
    assert time.monotonic() - closed >= 0.9


def test_v5_will_delay_is_cancelled_by_reconnecting(clients, topic):
    watcher = clients.connected(5)
    watcher.subscribe(f"{topic}/will")
    client_id = unique("will-back")
    connect = {"clean": False, "properties": [(P.SESSION_EXPIRY, 30)]}
    dying = clients.raw(5)
    dying.connect(client_id, will=Will(f"{topic}/will", b"should not be sent", properties=[(P.WILL_DELAY, 1)]), **connect)
    dying.abort()
    closed = time.monotonic()
    back = clients.raw(5)
    assert back.connect(client_id, **connect).session_present is True
    # Watch past the 1 s delay: the will must not come.
    watcher.assert_quiet(duration=max(QUIET, closed + 1.5 - time.monotonic()))


def test_v5_will_is_sent_when_the_session_ends_before_the_delay(clients, topic):
    watcher = clients.connected(5)
    watcher.subscribe(f"{topic}/will")
    dying = clients.raw(5)
    dying.connect(
        properties=[(P.SESSION_EXPIRY, 1)],
        will=Will(f"{topic}/will", b"session over", properties=[(P.WILL_DELAY, 60)]),
    )
    dying.abort()
    closed = time.monotonic()
    will = watcher.expect_publish(timeout=4)
    assert will.payload == b"session over"
    assert 0.9 <= time.monotonic() - closed < 3.5


def test_v5_will_without_delay_and_session_expiry_zero_is_sent_at_once(clients, topic):
    watcher = clients.connected(5)
    watcher.subscribe(f"{topic}/will")
    dying = clients.raw(5)
    dying.connect(will=Will(f"{topic}/will", b"now"))
    dying.abort()
    assert watcher.expect_publish(timeout=1).payload == b"now"


# MARK: Keep alive


@pytest.mark.parametrize("version", VERSIONS)
def test_keep_alive_is_enforced_at_one_and_a_half_times(clients, topic, version):
    watcher = clients.connected(version)
    watcher.subscribe(f"{topic}/will")
    idle = clients.raw(version)
    idle.connect(keepalive=2, will=Will(f"{topic}/will", b"timed out"))
    connected = time.monotonic()
    # Silent client: still connected at 2.4 s (more than 1× keep alive)...
    idle.assert_quiet(duration=2.4)
    # ...closed by 3.6 s (1.5× = 3 s), with a v5 DISCONNECT Keep Alive timeout, and the will goes out.
    received = idle.expect_closed(timeout=max(0.1, connected + 3.6 - time.monotonic()))
    if version == 5:
        assert [(p.type, p.code) for p in received] == [(DISCONNECT, 0x8D)]
    else:
        assert received == []
    assert watcher.expect_publish(timeout=1).payload == b"timed out"


def test_pings_keep_a_connection_alive(clients):
    client = clients.connected(4, keepalive=1)
    started = time.monotonic()
    while time.monotonic() - started < 2.5:
        assert client.is_open()  # PINGREQ → PINGRESP
        time.sleep(0.4)  # pacing the client, not synchronising
    assert client.is_open()
