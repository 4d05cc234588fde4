"""Publish/subscribe between real clients (paho-mqtt, mosquitto_pub/sub, raw sockets), 3.1.1 and 5.0:
QoS 0/1/2 end to end, retained messages, `$`-topics, shared subscriptions, unsubscribe, ordering."""

from __future__ import annotations

import pytest

from broker_helpers import (  # noqa: F401 (fixtures)
    PUBACK,
    PUBCOMP,
    PUBREC,
    PUBREL,
    MosquittoSub,
    P,
    ack_packet,
    broker,
    clients,
    mosquitto_pub,
    publish_packet,
    topic,
    unique,
)

VERSIONS = [pytest.param(4, id="v3.1.1"), pytest.param(5, id="v5")]


# MARK: Interoperability with real clients


@pytest.mark.parametrize("sub_version", [4, 5], ids=["sub-v3.1.1", "sub-v5"])
@pytest.mark.parametrize("pub_version", [4, 5], ids=["paho-v3.1.1", "paho-v5"])
def test_mosquitto_sub_receives_what_paho_publishes(broker, clients, topic, pub_version, sub_version):
    sub = MosquittoSub(broker.mqtt_port, f"{topic}/#", count=2, version=sub_version, qos=1)
    clients.opened.append(sub)
    sub.wait_subscribed()
    paho = clients.paho(pub_version)
    paho.publish(f"{topic}/a", b"first", qos=1)
    paho.publish(f"{topic}/b", b"second", qos=0)
    assert sub.messages() == [f"{topic}/a first", f"{topic}/b second"]


@pytest.mark.parametrize("version", VERSIONS)
def test_paho_receives_what_mosquitto_pub_publishes(broker, clients, topic, version):
    paho = clients.paho(version)
    assert paho.subscribe(f"{topic}/+", qos=2) == [2]
    for qos in (0, 1, 2):
        result = mosquitto_pub(broker.mqtt_port, f"{topic}/q{qos}", f"hello {qos}", version=version, qos=qos)
        assert result.returncode == 0, result.stderr
    received = paho.receive(3)
    assert [(m.topic, m.payload, m.qos) for m in received] == [
        (f"{topic}/q0", b"hello 0", 0),
        (f"{topic}/q1", b"hello 1", 1),
        (f"{topic}/q2", b"hello 2", 2),
    ]


# MARK: QoS


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("sub_qos", [0, 1, 2])
@pytest.mark.parametrize("pub_qos", [0, 1, 2])
def test_qos_end_to_end_is_min_of_publish_and_subscription(clients, topic, version, pub_qos, sub_qos):
    subscriber = clients.connected(version)
    assert subscriber.subscribe((topic, sub_qos)).codes == [sub_qos]
    publisher = clients.connected(version)

    # The publisher's flow: QoS 1 → PUBACK, QoS 2 → PUBREC, PUBREL → PUBCOMP (helpers assert each step).
    ack = publisher.publish(topic, b"payload", qos=pub_qos)
    if pub_qos:
        assert ack.type == (PUBACK if pub_qos == 1 else PUBREC) and ack.code == 0

    delivered = subscriber.expect_publish()
    assert (delivered.topic, delivered.payload, delivered.qos, delivered.dup, delivered.retain) == (
        topic, b"payload", min(pub_qos, sub_qos), False, False,
    )
    assert (delivered.packet_id != 0) == (delivered.qos > 0)
    if delivered.qos == 1:
        subscriber.send(ack_packet(PUBACK, delivered.packet_id, version=version))
    elif delivered.qos == 2:
        subscriber.send(ack_packet(PUBREC, delivered.packet_id, version=version))
        pubrel = subscriber.expect(PUBREL, packet_id=delivered.packet_id)
        assert pubrel.flags == 2
        subscriber.send(ack_packet(PUBCOMP, delivered.packet_id, version=version))
    # Exactly once: nothing else arrives, the flow is closed (no redelivery, no second PUBREL).
    subscriber.assert_quiet()


@pytest.mark.parametrize("version", VERSIONS)
def test_qos2_resend_before_pubrel_is_not_forwarded_twice(clients, topic, version):
    subscriber = clients.connected(version)
    subscriber.subscribe((topic, 2))
    publisher = clients.connected(version)
    publisher.send(publish_packet(topic, b"once", qos=2, packet_id=7, version=version))
    publisher.expect(PUBREC, packet_id=7)
    # The client did not see the PUBREC and sends again with DUP: acknowledged again, not forwarded again.
    publisher.send(publish_packet(topic, b"once", qos=2, dup=True, packet_id=7, version=version))
    publisher.expect(PUBREC, packet_id=7)
    publisher.send(ack_packet(PUBREL, 7, version=version))
    publisher.expect(PUBCOMP, packet_id=7)

    first = subscriber.expect_publish()
    assert first.payload == b"once"
    subscriber.ack(first)
    subscriber.assert_quiet()

    # After PUBCOMP the id is free: the same id is a new message.
    publisher.send(publish_packet(topic, b"twice", qos=2, packet_id=7, version=version))
    publisher.expect(PUBREC, packet_id=7)
    publisher.send(ack_packet(PUBREL, 7, version=version))
    publisher.expect(PUBCOMP, packet_id=7)
    assert subscriber.expect_publish().payload == b"twice"


@pytest.mark.parametrize("version", VERSIONS)
def test_messages_on_one_topic_arrive_in_order(clients, topic, version):
    subscriber = clients.paho(version)
    subscriber.subscribe(topic, qos=1)
    publisher = clients.connected(version)
    # More than the in-flight window (5 in this daemon's configuration), so the queue behind it is used too.
    for i in range(50):
        publisher.publish(topic, f"{i}".encode(), qos=1, complete=False)
    received = subscriber.receive(50)
    assert [m.payload for m in received] == [f"{i}".encode() for i in range(50)]


# MARK: Retained messages


@pytest.mark.parametrize("version", VERSIONS)
def test_retained_messages_store_replace_and_delete(clients, topic, version):
    publisher = clients.connected(version)
    publisher.publish(f"{topic}/state", b"one", qos=1, retain=True)

    # Stored: a new subscriber gets it with RETAIN set, also through a wildcard.
    first = clients.connected(version)
    first.subscribe((f"{topic}/+", 1))
    retained = first.expect_publish()
    assert (retained.topic, retained.payload, retained.retain) == (f"{topic}/state", b"one", True)
    first.ack(retained)

    # Replaced: the live subscriber gets the new one as a normal forward, RETAIN clear.
    publisher.publish(f"{topic}/state", b"two", qos=1, retain=True)
    live = first.expect_publish()
    assert (live.payload, live.retain) == (b"two", False)
    first.ack(live)

    second = clients.connected(version)
    second.subscribe((f"{topic}/state", 0))
    replaced = second.expect_publish()
    assert (replaced.payload, replaced.retain) == (b"two", True)
    second.assert_quiet()  # only the latest one is kept

    # Deleted by an empty retained payload (forwarded to live subscribers as an empty message).
    publisher.publish(f"{topic}/state", b"", qos=1, retain=True)
    emptied = first.expect_publish()
    assert (emptied.payload, emptied.retain) == (b"", False)
    third = clients.connected(version)
    third.subscribe((f"{topic}/#", 1))
    third.assert_quiet()


def test_a_non_retained_publish_does_not_replace_the_retained_message(clients, topic):
    publisher = clients.connected(5)
    publisher.publish(topic, b"kept", qos=1, retain=True)
    publisher.publish(topic, b"transient", qos=1)
    subscriber = clients.connected(5)
    subscriber.subscribe(topic)
    message = subscriber.expect_publish()
    assert (message.payload, message.retain) == (b"kept", True)
    subscriber.assert_quiet()


def test_paho_sees_retained_flag_from_mosquitto_pub(broker, clients, topic):
    result = mosquitto_pub(broker.mqtt_port, topic, "retained-by-cli", qos=1, retain=True)
    assert result.returncode == 0, result.stderr
    paho = clients.paho(4)
    paho.subscribe(topic, qos=1)
    message = paho.next_message()
    assert (message.payload, message.retain) == (b"retained-by-cli", True)


# MARK: Topics


@pytest.mark.parametrize("version", VERSIONS)
def test_dollar_topics_are_not_matched_by_leading_wildcards(clients, topic, version):
    everything = clients.connected(version)
    everything.subscribe("#", f"+/{topic}")
    explicit = clients.connected(version)
    explicit.subscribe(f"$moss-test/{topic}")
    publisher = clients.connected(version)

    publisher.publish(f"$moss-test/{topic}", b"dollar", qos=1)
    assert explicit.expect_publish().payload == b"dollar"
    # Both wildcards match an ordinary topic of the same shape, published after the `$` one: its arrival
    # proves the wildcards work, and nothing with `$` may have come before it.
    publisher.publish(f"plain/{topic}", b"plain", qos=1)
    seen = []
    while (message := everything.expect_publish()).topic != f"plain/{topic}":
        seen.append(message)
    assert not [m for m in seen + everything.backlog if m.topic.startswith("$")]


@pytest.mark.parametrize("version", VERSIONS)
def test_clients_may_not_publish_to_sys_topics(clients, topic, version):
    watcher = clients.connected(version)
    watcher.subscribe("$SYS/#", f"$share/{topic.replace('/', '-')}/x")
    publisher = clients.connected(version)
    ack = publisher.publish(f"$SYS/{topic}", b"fake statistics", qos=1)
    if version == 5:
        assert ack.code == 0x90  # Topic Name invalid
        assert "$SYS" in ack.properties.get(P.REASON_STRING, "")
    else:
        assert ack.code == 0  # 3.1.1 cannot refuse a PUBLISH: acknowledged and dropped
    watcher.assert_quiet()
    assert publisher.is_open()


def test_shared_subscription_round_robin(clients, topic):
    group = f"$share/workers/{topic}/jobs/+"
    members = [clients.connected(5), clients.connected(4)]
    for member in members:
        assert member.subscribe((group, 1)).codes == [1]
    everyone = clients.connected(5)
    everyone.subscribe((f"{topic}/jobs/+", 1))
    publisher = clients.connected(5)
    for i in range(6):
        publisher.publish(f"{topic}/jobs/{i}", f"job {i}".encode(), qos=1)

    got = [[], []]
    for _ in range(3):
        for index, member in enumerate(members):
            message = member.expect_publish()
            member.ack(message)
            got[index].append(message.payload)
    for member in members:
        member.assert_quiet()
    # Each job went to exactly one member, alternating between them.
    assert sorted(got[0] + got[1]) == sorted(f"job {i}".encode() for i in range(6))
    assert len(got[0]) == len(got[1]) == 3
    parities = {int(payload.split()[1]) % 2 for payload in got[0]}
    assert len(parities) == 1, got
    # Non-shared subscribers still get every message.
    for _ in range(6):
        everyone.ack(everyone.expect_publish())


def test_shared_subscriptions_get_no_retained_messages(clients, topic):
    publisher = clients.connected(5)
    publisher.publish(topic, b"retained", qos=1, retain=True)
    member = clients.connected(5)
    member.subscribe((f"$share/g/{topic}", 1))
    member.assert_quiet()
    publisher.publish(topic, b"live", qos=1)
    assert member.expect_publish().payload == b"live"


@pytest.mark.parametrize("version", VERSIONS)
def test_unsubscribe_stops_delivery(clients, topic, version):
    subscriber = clients.connected(version)
    subscriber.subscribe(f"{topic}/a", f"{topic}/b")
    unsuback = subscriber.unsubscribe(f"{topic}/a", f"{topic}/never")
    if version == 5:
        assert unsuback.codes == [0x00, 0x11]  # success, No subscription existed
    publisher = clients.connected(version)
    publisher.publish(f"{topic}/a", b"gone", qos=1)
    publisher.publish(f"{topic}/b", b"still", qos=1)
    assert subscriber.expect_publish().payload == b"still"
    subscriber.assert_quiet()


@pytest.mark.parametrize("version", VERSIONS)
def test_resubscribing_replaces_the_subscription(clients, topic, version):
    subscriber = clients.connected(version)
    subscriber.subscribe((topic, 0))
    assert subscriber.subscribe((topic, 2)).codes == [2]
    publisher = clients.connected(version)
    publisher.publish(topic, b"x", qos=2)
    message = subscriber.expect_publish()
    assert message.qos == 2
    subscriber.ack(message)
    subscriber.assert_quiet()  # one subscription, one copy


def test_wildcards_match_as_specified(clients, topic):
    subscriber = clients.connected(5)
    subscriber.subscribe(f"{topic}/+/temp", f"{topic}/house/#")
    publisher = clients.connected(5)
    cases = {
        f"{topic}/kitchen/temp": True,
        f"{topic}/kitchen/temp/extra": False,
        f"{topic}/kitchen": False,
        f"{topic}/house": True,  # `a/#` matches `a` itself
        f"{topic}/house/a/b/c": True,
        f"{topic}/House/a": False,  # case-sensitive
    }
    for name in cases:
        publisher.publish(name, b"x", qos=1)
    expected = [name for name, matches in cases.items() if matches]
    assert [subscriber.expect_publish().topic for _ in expected] == expected
    subscriber.assert_quiet()


def test_retained_dollar_topics_are_not_sent_to_leading_wildcards(clients, topic):
    publisher = clients.connected(5)
    publisher.publish(f"$moss-retained/{topic}", b"dollar", qos=1, retain=True)
    publisher.publish(f"plain/{topic}", b"plain", qos=1, retain=True)
    wildcard = clients.connected(5)
    wildcard.subscribe(f"+/{topic}")
    assert [wildcard.expect_publish().topic] == [f"plain/{topic}"]
    wildcard.assert_quiet()
    explicit = clients.connected(5)
    explicit.subscribe(f"$moss-retained/{topic}")
    assert explicit.expect_publish().payload == b"dollar"


def test_unsubscribing_a_shared_subscription(clients, topic):
    member = clients.connected(5)
    member.subscribe((f"$share/g/{topic}", 1))
    assert member.unsubscribe(f"$share/g/{topic}").codes == [0x00]
    publisher = clients.connected(5)
    publisher.publish(topic, b"nobody", qos=1)
    member.assert_quiet()


def test_shared_subscription_prefers_connected_members(clients, topic):
    group = f"$share/g/{topic}"
    offline_id = unique("offline-member")
    offline = clients.raw(5)
    offline.connect(offline_id, clean=False, properties=[(P.SESSION_EXPIRY, 60)])
    offline.subscribe((group, 1))
    offline.disconnect()
    online = clients.connected(5)
    online.subscribe((group, 1))
    publisher = clients.connected(5)
    for i in range(4):
        publisher.publish(topic, f"{i}".encode(), qos=1)
    got = []
    for _ in range(4):
        message = online.expect_publish()
        online.ack(message)
        got.append(message.payload)
    assert got == [b"0", b"1", b"2", b"3"]
