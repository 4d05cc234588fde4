"""Retained messages and persistent sessions (with queued and in-flight QoS 1 messages) survive a clean
restart (SIGTERM) of the daemon on the same data directory."""

from __future__ import annotations

import pytest

from broker_helpers import (
    DISCONNECT,
    PUBACK,
    PUBCOMP,
    PUBREC,
    PUBREL,
    publish_packet,
    subscription_options,
    Will,
    P,
    Clients,
    ack_packet,
    start_moss,
    status,
    stop_cleanly,
    unique,
)


@pytest.fixture
def restartable(moss_binary, tmp_path):
    """Starts moss on `tmp_path/data`; `restart()` stops it with SIGTERM (must exit 0) and starts it again."""

    class Daemon:
        def __init__(self):
            self.moss = start_moss(moss_binary, tmp_path / "data")
            self.clients = Clients(self.moss.mqtt_port)

        def restart(self):
            self.clients.close_all()
            stop_cleanly(self.moss)
            self.moss = start_moss(moss_binary, tmp_path / "data")
            self.clients = Clients(self.moss.mqtt_port)

    daemon = Daemon()
    try:
        yield daemon
    finally:
        daemon.clients.close_all()
        stop_cleanly(daemon.moss)


def test_retained_messages_survive_a_restart(restartable):
    topic = unique("retained")
    publisher = restartable.clients.connected(5)
    publisher.publish(f"{topic}/kept", b"still here", qos=1, retain=True, properties=[(P.USER_PROPERTY, ("k", "v"))])
    publisher.publish(f"{topic}/replaced", b"old", qos=1, retain=True)
    publisher.publish(f"{topic}/replaced", b"new", qos=0, retain=True)
    publisher.publish(f"{topic}/deleted", b"soon gone", qos=1, retain=True)
    publisher.publish(f"{topic}/deleted", b"", qos=1, retain=True)
    publisher.disconnect()

    restartable.restart()
    assert status(restartable.moss)["retainedMessages"] >= 2
    subscriber = restartable.clients.connected(5)
    subscriber.subscribe((f"{topic}/#", 1))
    got = sorted((subscriber.expect_publish() for _ in range(2)), key=lambda m: m.topic)
    assert [(m.topic, m.payload, m.retain) for m in got] == [
        (f"{topic}/kept", b"still here", True),
        (f"{topic}/replaced", b"new", True),
    ]
    assert got[0].properties.user == [("k", "v")]
    for message in got:
        subscriber.ack(message)
    subscriber.assert_quiet()  # the deleted one stays deleted


@pytest.mark.parametrize("version", [4, 5], ids=["v3.1.1", "v5"])
def test_persistent_session_with_queued_messages_survives_a_restart(restartable, version):
    topic = unique("session")
    client_id = unique("durable")
    persistent = {"clean": False, "properties": [(P.SESSION_EXPIRY, 600)]} if version == 5 else {"clean": False}
    subscriber = restartable.clients.raw(version)
    subscriber.connect(client_id, **persistent)
    subscriber.subscribe((f"{topic}/a", 1), (f"{topic}/b", 2))
    publisher = restartable.clients.connected(version)
    # One message in flight (received, never acknowledged), then the client goes away.
    publisher.publish(f"{topic}/a", b"in flight", qos=1)
    in_flight = subscriber.expect_publish()
    subscriber.abort()
    # Queued while offline.
    publisher.publish(f"{topic}/a", b"queued 1", qos=1)
    publisher.publish(f"{topic}/b", b"queued 2", qos=2)
    publisher.disconnect()

    restartable.restart()
    back = restartable.clients.raw(version)
    assert back.connect(client_id, **persistent).session_present is True
    redelivered = back.expect_publish()
    assert (redelivered.payload, redelivered.dup, redelivered.packet_id) == (b"in flight", True, in_flight.packet_id)
    back.send(ack_packet(PUBACK, redelivered.packet_id, version=version))
    queued = [back.expect_publish(), back.expect_publish()]
    assert [(m.topic, m.payload, m.qos) for m in queued] == [(f"{topic}/a", b"queued 1", 1), (f"{topic}/b", b"queued 2", 2)]
    for message in queued:
        back.ack(message)
    back.assert_quiet()

    # The subscriptions came back too.
    restartable.clients.connected(version).publish(f"{topic}/b", b"after restart", qos=1)
    assert back.expect_publish().payload == b"after restart"


def test_clean_sessions_do_not_survive_a_restart(restartable):
    client_id = unique("ephemeral")
    client = restartable.clients.raw(4)
    client.connect(client_id, clean=True)
    client.subscribe((unique("t"), 1))
    restartable.restart()
    again = restartable.clients.raw(4)
    assert again.connect(client_id, clean=False).session_present is False


def test_persistent_session_that_ended_before_the_restart_stays_ended(restartable):
    client_id = unique("ended")
    client = restartable.clients.raw(5)
    client.connect(client_id, clean=False, properties=[(P.SESSION_EXPIRY, 600)])
    client.subscribe((unique("t"), 1))
    client.disconnect(properties=[(P.SESSION_EXPIRY, 0)])
    restartable.restart()
    again = restartable.clients.raw(5)
    assert again.connect(client_id, clean=False, properties=[(P.SESSION_EXPIRY, 600)]).session_present is False


def test_shutdown_disconnects_v5_clients_with_0x8b_and_publishes_no_will(restartable):
    topic = unique("shutdown")
    v5 = restartable.clients.raw(5)
    v5.connect(will=Will(f"{topic}/will", b"must not be published", qos=1, retain=True))
    v3 = restartable.clients.raw(4)
    v3.connect(will=Will(f"{topic}/will3", b"must not be published", qos=1, retain=True))
    restartable.moss.process.terminate()
    assert [(p.type, p.code) for p in v5.expect_closed()] == [(DISCONNECT, 0x8B)]  # Server shutting down
    assert v3.expect_closed() == []
    restartable.restart()
    # A retained will would be visible now; none was published.
    subscriber = restartable.clients.connected(5)
    subscriber.subscribe((f"{topic}/#", 1))
    subscriber.assert_quiet()


def test_qos2_flows_in_both_directions_survive_a_restart(restartable):
    topic = unique("qos2")
    sub_id, pub_id = unique("q2-sub"), unique("q2-pub")
    persistent = {"clean": False, "properties": [(P.SESSION_EXPIRY, 600)]}
    subscriber = restartable.clients.connected(5, sub_id, **persistent)
    subscriber.subscribe((topic, 2))
    publisher = restartable.clients.connected(5, pub_id, **persistent)
    # Outbound: the subscriber got the message and sent PUBREC; the broker's PUBREL is never completed.
    publisher.publish(topic, b"outbound", qos=2)
    delivered = subscriber.expect_publish()
    subscriber.send(ack_packet(PUBREC, delivered.packet_id))
    subscriber.expect(PUBREL, packet_id=delivered.packet_id)
    # Inbound: the publisher's QoS 2 message was accepted (PUBREC) but not released yet.
    publisher.send(publish_packet(topic, b"inbound", qos=2, packet_id=77))
    publisher.expect(PUBREC, packet_id=77)
    forwarded = subscriber.expect_publish()
    assert forwarded.payload == b"inbound"
    subscriber.ack(forwarded)

    restartable.restart()
    subscriber = restartable.clients.raw(5)
    assert subscriber.connect(sub_id, **persistent).session_present
    subscriber.expect(PUBREL, packet_id=delivered.packet_id)  # only the release is left to do
    subscriber.send(ack_packet(PUBCOMP, delivered.packet_id))
    publisher = restartable.clients.raw(5)
    assert publisher.connect(pub_id, **persistent).session_present
    # The publisher resends with DUP: acknowledged, not forwarded a second time.
    publisher.send(publish_packet(topic, b"inbound", qos=2, dup=True, packet_id=77))
    publisher.expect(PUBREC, packet_id=77)
    publisher.send(ack_packet(PUBREL, 77))
    publisher.expect(PUBCOMP, packet_id=77)
    subscriber.assert_quiet()


def test_subscription_options_and_identifiers_survive_a_restart(restartable):
    topic = unique("options")
    client_id = unique("opts")
    persistent = {"clean": False, "properties": [(P.SESSION_EXPIRY, 600)]}
    client = restartable.clients.connected(5, client_id, **persistent)
    client.subscribe((topic, subscription_options(qos=1, no_local=True, retain_as_published=True)), properties=[(P.SUBSCRIPTION_ID, 42)])
    client.disconnect()
    restartable.restart()
    client = restartable.clients.connected(5, client_id, **persistent)
    client.publish(topic, b"own", qos=1)
    client.assert_quiet()  # No Local still applies
    restartable.clients.connected(5).publish(topic, b"other", qos=1, retain=True)
    message = client.expect_publish()
    assert (message.payload, message.retain, message.properties.all(P.SUBSCRIPTION_ID)) == (b"other", True, [42])
