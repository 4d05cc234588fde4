"""MQTT 5.0 features: CONNACK properties, topic aliases both ways, receive maximum, maximum packet size of the
client, message expiry, subscription identifiers, no local, retain as published, retain handling,
request/response properties, user properties, reason codes and reason strings on refusals."""

from __future__ import annotations

import time

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from broker_helpers import (  # noqa: F401 (fixtures)
    AUTH,
    BROKER_LIMITS,
    PUBCOMP,
    PUBREC,
    PUBREL,
    P,
    ack_packet,
    broker,
    clients,
    packet,
    publish_packet,
    subscribe_packet,
    subscription_options,
    topic,
    unique,
)


def test_connack_announces_the_broker_limits(clients):
    connack = clients.raw(5).connect()
    props = dict(connack.properties)
    assert props[P.RECEIVE_MAXIMUM] == BROKER_LIMITS["maximumInflightMessages"]
    assert props[P.MAXIMUM_PACKET_SIZE] == 128 * 1024  # the default, as AWS IoT
    assert props[P.TOPIC_ALIAS_MAXIMUM] == 10
    assert P.ASSIGNED_CLIENT_ID not in props  # the client named itself
    assert P.SERVER_KEEP_ALIVE not in props  # 60 s is within the default maximum


# MARK: Topic aliases


def test_topic_alias_from_client_to_broker(clients, topic):
    subscriber = clients.paho(5)
    subscriber.subscribe(f"{topic}/#", qos=1)
    publisher = clients.connected(5)
    publisher.publish(f"{topic}/long/name", b"sets alias", qos=1, properties=[(P.TOPIC_ALIAS, 3)])
    publisher.publish(b"", b"uses alias", qos=1, properties=[(P.TOPIC_ALIAS, 3)])
    publisher.publish(f"{topic}/other", b"remaps alias", qos=1, properties=[(P.TOPIC_ALIAS, 3)])
    publisher.publish(b"", b"uses new mapping", qos=1, properties=[(P.TOPIC_ALIAS, 3)])
    assert [(m.topic, m.payload) for m in subscriber.receive(4)] == [
        (f"{topic}/long/name", b"sets alias"),
        (f"{topic}/long/name", b"uses alias"),
        (f"{topic}/other", b"remaps alias"),
        (f"{topic}/other", b"uses new mapping"),
    ]


@pytest.mark.parametrize("alias", [0, 11], ids=["zero", "above-maximum"])
def test_topic_alias_outside_the_maximum_disconnects_0x94(clients, topic, alias):
    client = clients.connected(5)
    client.send(publish_packet(topic, b"x", properties=[(P.TOPIC_ALIAS, alias)]))
    client.expect_disconnect(0x94)  # Topic Alias invalid


def test_unknown_topic_alias_disconnects_with_protocol_error(clients):
    client = clients.connected(5)
    client.send(publish_packet(b"", b"x", properties=[(P.TOPIC_ALIAS, 4)]))
    client.expect_disconnect(0x82)


def test_topic_alias_from_broker_to_client(clients, topic):
    subscriber = clients.raw(5)
    subscriber.connect(properties=[(P.TOPIC_ALIAS_MAXIMUM, 2)])
    subscriber.subscribe(f"{topic}/+")
    plain = clients.connected(5)  # no Topic Alias Maximum: never gets aliases
    plain.subscribe(f"{topic}/+")
    publisher = clients.connected(5)
    for name in ["a", "a", "b", "c", "b"]:
        publisher.publish(f"{topic}/{name}", name.encode(), qos=1)

    got = [subscriber.expect_publish() for _ in range(5)]
    seen = [(m.topic, m.properties.get(P.TOPIC_ALIAS), m.payload) for m in got]
    a, b = seen[0][1], seen[2][1]
    assert a and b and a != b and {a, b} <= {1, 2}
    assert seen == [
        (f"{topic}/a", a, b"a"),  # alias set
        ("", a, b"a"),  # alias used, topic omitted
        (f"{topic}/b", b, b"b"),
        (f"{topic}/c", None, b"c"),  # both aliases taken: full topic, no alias
        ("", b, b"b"),
    ]
    for message in [plain.expect_publish() for _ in range(5)]:
        assert message.topic and message.properties.get(P.TOPIC_ALIAS) is None


def test_no_alias_is_assigned_by_a_message_the_client_never_received(clients, topic):
    """A message too large for the client is not sent; it must not leave an alias the client never learned."""
    subscriber = clients.raw(5)
    subscriber.connect(properties=[(P.TOPIC_ALIAS_MAXIMUM, 2), (P.MAXIMUM_PACKET_SIZE, 200)])
    subscriber.subscribe(topic)
    publisher = clients.connected(5)
    publisher.publish(topic, b"x" * 500, qos=1)  # dropped for this client
    publisher.publish(topic, b"small", qos=1)
    message = subscriber.expect_publish()
    assert message.payload == b"small"
    assert message.topic == topic, f"alias {message.properties.get(P.TOPIC_ALIAS)} used before it was ever sent"


# MARK: Flow control and sizes


def test_receive_maximum_exceeded_disconnects_0x93(clients, topic):
    client = clients.raw(5)
    receive_maximum = client.connect().properties.get(P.RECEIVE_MAXIMUM)
    assert receive_maximum == BROKER_LIMITS["maximumInflightMessages"]
    # QoS 2 messages whose PUBREL the client holds back count against the broker's Receive Maximum.
    for packet_id in range(1, receive_maximum + 1):
        client.send(publish_packet(topic, b"x", qos=2, packet_id=packet_id))
        client.expect(PUBREC, packet_id=packet_id)
    # Completing one frees its slot.
    client.send(ack_packet(PUBREL, 1))
    client.expect(PUBCOMP, packet_id=1)
    client.send(publish_packet(topic, b"x", qos=2, packet_id=100))
    client.expect(PUBREC, packet_id=100)
    # One more than allowed.
    client.send(publish_packet(topic, b"x", qos=2, packet_id=101))
    disconnect = client.expect_disconnect(0x93)
    assert disconnect.properties.get(P.REASON_STRING)


def test_v3_more_qos2_awaiting_pubrel_than_the_window_closes_the_connection(clients, topic):
    """3.1.1 has no Receive Maximum and a PUBREC cannot refuse: the broker closes instead of dropping silently."""
    client = clients.connected(4)
    limit = BROKER_LIMITS["maximumInflightMessages"]
    for packet_id in range(1, limit + 1):
        client.send(publish_packet(topic, b"x", qos=2, packet_id=packet_id, version=4))
        client.expect(PUBREC, packet_id=packet_id)
    client.send(publish_packet(topic, b"x", qos=2, packet_id=limit + 1, version=4))
    assert client.expect_closed() == []


def test_client_maximum_packet_size_drops_only_for_that_client(clients, topic):
    small = clients.raw(5)
    small.connect(properties=[(P.MAXIMUM_PACKET_SIZE, 200)])
    small.subscribe((topic, 1))
    large = clients.paho(5)
    large.subscribe(topic, qos=1)
    publisher = clients.connected(5)
    publisher.publish(topic, b"L" * 500, qos=1)
    publisher.publish(topic, b"fits", qos=1)
    assert [m.payload for m in large.receive(2)] == [b"L" * 500, b"fits"]
    message = small.expect_publish()
    assert message.payload == b"fits"
    assert len(message.raw) + 2 <= 200
    small.ack(message)
    small.assert_quiet()


# MARK: Message expiry


def test_message_expiry_drops_expired_and_forwards_the_remaining_interval(clients, topic):
    client_id = unique("expiry")
    subscriber = clients.raw(5)
    subscriber.connect(client_id, clean=False, properties=[(P.SESSION_EXPIRY, 60)])
    subscriber.subscribe((topic, 1))
    subscriber.disconnect()
    publisher = clients.connected(5)
    publisher.publish(topic, b"short", qos=1, properties=[(P.MESSAGE_EXPIRY, 1)])
    publisher.publish(topic, b"long", qos=1, properties=[(P.MESSAGE_EXPIRY, 10)])
    publisher.publish(topic, b"forever", qos=1)
    published = time.monotonic()
    time.sleep(max(0.0, published + 1.3 - time.monotonic()))  # let the 1 s message expire in the queue

    back = clients.raw(5)
    assert back.connect(client_id, clean=False, properties=[(P.SESSION_EXPIRY, 60)]).session_present
    first, second = back.expect_publish(), back.expect_publish()
    assert [first.payload, second.payload] == [b"long", b"forever"]
    assert 1 <= first.properties.get(P.MESSAGE_EXPIRY) <= 9  # what is left, not the original 10
    assert second.properties.get(P.MESSAGE_EXPIRY) is None
    back.ack(first)
    back.ack(second)
    back.assert_quiet()


def test_expired_retained_message_is_not_delivered(clients, topic):
    publisher = clients.connected(5)
    publisher.publish(topic, b"stale soon", qos=1, retain=True, properties=[(P.MESSAGE_EXPIRY, 1)])
    fresh = clients.connected(5)
    fresh.subscribe(topic)
    assert fresh.expect_publish().properties.get(P.MESSAGE_EXPIRY) == 1
    time.sleep(1.2)  # the expiry itself
    late = clients.connected(5)
    late.subscribe(topic)
    late.assert_quiet()


# MARK: Subscription options and identifiers


def test_overlapping_subscriptions_one_copy_at_highest_qos_with_every_identifier(clients, topic):
    subscriber = clients.raw(5)
    subscriber.connect()
    subscriber.subscribe((f"{topic}/+", 0), properties=[(P.SUBSCRIPTION_ID, 1)])
    subscriber.subscribe((f"{topic}/#", 1), properties=[(P.SUBSCRIPTION_ID, 2)])
    subscriber.subscribe((f"{topic}/a", 0))  # no identifier
    publisher = clients.connected(5)
    publisher.publish(f"{topic}/a", b"once", qos=2)
    message = subscriber.expect_publish()
    assert (message.payload, message.qos) == (b"once", 1)
    assert sorted(message.properties.all(P.SUBSCRIPTION_ID)) == [1, 2]
    subscriber.ack(message)
    subscriber.assert_quiet()  # one copy only

    publisher.publish(f"{topic}/a/b", b"deeper", qos=1)  # matches only the `#` subscription
    deeper = subscriber.expect_publish()
    assert deeper.properties.all(P.SUBSCRIPTION_ID) == [2]


def test_v3_overlapping_subscriptions_get_one_copy_at_highest_qos(clients, topic):
    subscriber = clients.connected(4)
    subscriber.subscribe((f"{topic}/+", 2), (f"{topic}/#", 0))
    clients.connected(4).publish(f"{topic}/a", b"x", qos=2)
    message = subscriber.expect_publish()
    assert message.qos == 2
    subscriber.ack(message)
    subscriber.assert_quiet()


def test_resubscribing_replaces_the_subscription_identifier(clients, topic):
    subscriber = clients.connected(5)
    subscriber.subscribe(topic, properties=[(P.SUBSCRIPTION_ID, 5)])
    subscriber.subscribe(topic, properties=[(P.SUBSCRIPTION_ID, 9)])
    clients.connected(5).publish(topic, b"x", qos=1)
    assert subscriber.expect_publish().properties.all(P.SUBSCRIPTION_ID) == [9]


def test_no_local(clients, topic):
    talker = clients.connected(5)
    talker.subscribe((topic, subscription_options(qos=1, no_local=True)))
    listener = clients.connected(5)
    listener.subscribe((topic, 1))
    talker.publish(topic, b"own message", qos=1)
    assert listener.expect_publish().payload == b"own message"
    talker.assert_quiet()
    # Without No Local the publisher does get its own messages.
    talker.subscribe((topic, subscription_options(qos=1)))
    talker.publish(topic, b"echo", qos=1)
    assert talker.expect_publish().payload == b"echo"


def test_retain_as_published(clients, topic):
    keeps = clients.connected(5)
    keeps.subscribe((topic, subscription_options(retain_as_published=True)))
    clears = clients.connected(5)
    clears.subscribe((topic, subscription_options()))
    clients.connected(5).publish(topic, b"r", qos=1, retain=True)
    assert keeps.expect_publish().retain is True
    assert clears.expect_publish().retain is False


@pytest.mark.parametrize(
    "handling,on_first,on_resubscribe", [(0, True, True), (1, True, False), (2, False, False)], ids=["send", "if-new", "never"]
)
def test_retain_handling(clients, topic, handling, on_first, on_resubscribe):
    clients.connected(5).publish(topic, b"retained", qos=1, retain=True)
    subscriber = clients.connected(5)
    options = subscription_options(qos=1, retain_handling=handling)

    subscriber.subscribe((topic, options))
    if on_first:
        message = subscriber.expect_publish()
        assert (message.payload, message.retain) == (b"retained", True)
        subscriber.ack(message)
    subscriber.assert_quiet()

    subscriber.subscribe((topic, options))  # the subscription exists now
    if on_resubscribe:
        message = subscriber.expect_publish()
        assert message.payload == b"retained"
        subscriber.ack(message)
    subscriber.assert_quiet()


def test_paho_subscribe_options(clients, topic):
    publisher = clients.paho(5)
    publisher.publish(topic, b"retained", qos=1, retain=True)
    assert publisher.subscribe(topic, options=SubscribeOptions(qos=1, noLocal=True, retainHandling=2)) == [1]
    publisher.publish(topic, b"own", qos=1)
    publisher.assert_no_message()


# MARK: Properties forwarded


def test_request_response_and_user_properties_are_forwarded_in_order(clients, topic):
    subscriber = clients.connected(5)
    subscriber.subscribe((topic, 1))
    user = [("trace", "1"), ("zone", "eu"), ("trace", "2"), ("ünïcode", "✓")]
    properties = [
        (P.RESPONSE_TOPIC, f"{topic}/reply"),
        (P.CORRELATION_DATA, b"\x00\x01request-42"),
        (P.CONTENT_TYPE, "application/json"),
        (P.PAYLOAD_FORMAT, 1),
    ] + [(P.USER_PROPERTY, pair) for pair in user]
    clients.connected(5).publish(topic, b'{"ask": 1}', qos=1, properties=properties)
    message = subscriber.expect_publish()
    assert message.properties.get(P.RESPONSE_TOPIC) == f"{topic}/reply"
    assert message.properties.get(P.CORRELATION_DATA) == b"\x00\x01request-42"
    assert message.properties.get(P.CONTENT_TYPE) == "application/json"
    assert message.properties.get(P.PAYLOAD_FORMAT) == 1
    assert message.properties.user == user


def test_request_response_with_paho(clients, topic):
    responder = clients.paho(5)
    responder.subscribe(f"{topic}/requests", qos=1)
    requester = clients.paho(5)
    requester.subscribe(f"{topic}/replies", qos=1)
    request = Properties(PacketTypes.PUBLISH)
    request.ResponseTopic = f"{topic}/replies"
    request.CorrelationData = b"id-7"
    request.UserProperty = [("a", "1"), ("b", "2")]
    requester.publish(f"{topic}/requests", b"ping", qos=1, properties=request)

    incoming = responder.next_message()
    assert incoming.properties.ResponseTopic == f"{topic}/replies"
    assert incoming.properties.UserProperty == [("a", "1"), ("b", "2")]
    reply = Properties(PacketTypes.PUBLISH)
    reply.CorrelationData = incoming.properties.CorrelationData
    responder.publish(incoming.properties.ResponseTopic, b"pong", qos=1, properties=reply)
    answer = requester.next_message()
    assert (answer.payload, answer.properties.CorrelationData) == (b"pong", b"id-7")


# MARK: Refusals: reason codes and reason strings


def test_enhanced_authentication_is_refused_with_a_reason_string(clients):
    client = clients.raw(5)
    connack = client.connect(properties=[(P.AUTH_METHOD, "SCRAM-SHA-1")], expect_code=0x8C)  # Bad auth method
    assert connack.properties.get(P.REASON_STRING)
    client.expect_closed()


def test_auth_packet_after_connect_is_a_protocol_error(clients):
    client = clients.connected(5)
    client.send(packet(AUTH, 0, b"\x18\x00"))  # Re-authenticate, no properties
    client.expect_disconnect(0x82)


def test_publish_refusal_carries_reason_string_unless_problem_information_is_off(clients):
    talkative = clients.connected(5)
    ack = talkative.publish("$SYS/moss/fake", b"x", qos=1)
    assert ack.code == 0x90 and ack.properties.get(P.REASON_STRING)
    pubrec = talkative.publish("$SYS/moss/fake", b"x", qos=2)
    assert pubrec.code == 0x90

    quiet = clients.connected(5, properties=[(P.REQUEST_PROBLEM_INFO, 0)])
    ack = quiet.publish("$SYS/moss/fake", b"x", qos=1)
    assert ack.code == 0x90 and ack.properties.get(P.REASON_STRING) is None


def test_payload_format_indicator_with_invalid_utf8_is_refused(clients, topic):
    subscriber = clients.connected(5)
    subscriber.subscribe(topic)
    publisher = clients.connected(5)
    ack = publisher.publish(topic, b"\xff\xfe", qos=1, properties=[(P.PAYLOAD_FORMAT, 1)])
    assert ack.code == 0x99  # Payload format invalid
    subscriber.assert_quiet()


def test_invalid_filter_gets_suback_0x8f_and_the_valid_ones_are_granted(clients, topic):
    client = clients.connected(5)
    suback = client.subscribe((f"{topic}/ok", 1), (f"{topic}/#/bad", 0), (f"{topic}/a+", 0), (f"{topic}/+", 2))
    assert suback.codes == [1, 0x8F, 0x8F, 2]
    assert suback.properties.get(P.REASON_STRING)


def test_no_local_on_a_shared_subscription_is_a_protocol_error(clients, topic):
    client = clients.connected(5)
    client.send(subscribe_packet(1, [(f"$share/g/{topic}", subscription_options(no_local=True))]))
    client.expect_disconnect(0x82)


def test_two_subscription_identifiers_are_a_protocol_error(clients, topic):
    client = clients.connected(5)
    client.send(
        subscribe_packet(1, [(topic, 0)], properties=[(P.SUBSCRIPTION_ID, 1), (P.SUBSCRIPTION_ID, 2)])
    )
    client.expect_disconnect(0x82)


def test_retained_message_carries_the_subscription_identifier(clients, topic):
    clients.connected(5).publish(topic, b"r", qos=1, retain=True)
    subscriber = clients.connected(5)
    subscriber.subscribe(topic, properties=[(P.SUBSCRIPTION_ID, 42)])
    message = subscriber.expect_publish()
    assert (message.retain, message.properties.all(P.SUBSCRIPTION_ID)) == (True, [42])


def test_topic_aliases_do_not_outlive_the_connection(clients, topic):
    client_id = unique("alias")
    first = clients.connected(5, client_id, clean=False, properties=[(P.SESSION_EXPIRY, 60)])
    first.publish(topic, b"x", qos=1, properties=[(P.TOPIC_ALIAS, 1)])
    first.disconnect()
    second = clients.connected(5, client_id, clean=False, properties=[(P.SESSION_EXPIRY, 60)])
    second.send(publish_packet(b"", b"x", properties=[(P.TOPIC_ALIAS, 1)]))
    second.expect_disconnect(0x82)


def test_expired_in_flight_message_is_not_redelivered(clients, topic):
    client_id = unique("inflight-expiry")
    connect = {"clean": False, "properties": [(P.SESSION_EXPIRY, 60)]}
    subscriber = clients.connected(5, client_id, **connect)
    subscriber.subscribe((topic, 1))
    publisher = clients.connected(5)
    publisher.publish(topic, b"short-lived", qos=1, properties=[(P.MESSAGE_EXPIRY, 1)])
    publisher.publish(topic, b"durable", qos=1)
    assert [subscriber.expect_publish().payload for _ in range(2)] == [b"short-lived", b"durable"]
    subscriber.abort()  # neither acknowledged
    time.sleep(1.2)  # the expiry itself
    back = clients.raw(5)
    assert back.connect(client_id, **connect).session_present
    message = back.expect_publish()
    assert (message.payload, message.dup) == (b"durable", True)
    back.ack(message)
    back.assert_quiet()
