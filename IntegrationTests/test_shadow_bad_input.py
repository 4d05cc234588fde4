"""Bad update requests get their exact AWS code and message, over MQTT (update/rejected, with the clientToken when
the request carried a valid one) and over the admin API (HTTP status, x-amzn-ErrorType, {"message": ...}), and
change nothing: no publication besides the rejection, and a GET afterwards shows the same version and document.

Also: name limits and wrong verbs on the admin API, the exact 8192-byte state limit, and client publishes on the
service's reply topics (ignored)."""

from __future__ import annotations

import json

import pytest

from shadow_helpers import (  # noqa: F401 (fixtures)
    UTF8_MESSAGE,
    AdminAPI,
    ShadowClient,
    admin,
    assert_matches,
    assert_rest_error,
    mqtt,
    shadow_daemon,
    shadow_topic,
    unique,
)

TOKEN = "bad-input-token"
# The shadow each test starts from: version 2, about 5 KB of state (so 4 KB more crosses the 8 KB limit).
SETUP = [
    {"state": {"desired": {"a": 1, "big": "x" * 5000}, "reported": {"a": 0}}},
    {"state": {"reported": {"list": [1, 2], "nested": {"k": True}}}},
]


def doc(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def nest(levels: int, leaf) -> dict:
    """{"l1":{"l2":...{"l<levels>": leaf}}}: a section of `levels` levels when `leaf` is a scalar."""
    value = leaf
    for level in range(levels, 0, -1):
        value = {f"l{level}": value}
    return value


GOOD_STATE = {"desired": {"a": 2}}

# (id, payload, code, message, whether the rejection echoes TOKEN)
INVALID_JSON = "Invalid JSON"
NO_STATE = "Missing required node: state"
STATE_TYPE = "State node must be an object"
DESIRED_TYPE = "Desired node must be an object"
REPORTED_TYPE = "Reported node must be an object"
BAD_TOKEN = "Invalid clientToken"
BAD_VERSION = "Invalid version"
NESTING = "JSON contains too many levels of nesting; maximum is 6"
CONFLICT = "Version conflict"
TOO_LARGE = "The payload exceeds the maximum size allowed"

BAD_UPDATES = [
    ("invalid-json", b'{"state": {"desired": {"a": 1}', 400, INVALID_JSON, False),
    ("trailing-garbage", b'{"state":{"desired":{"a":1}}} x', 400, INVALID_JSON, False),
    ("nan-literal", b'{"state":{"desired":{"a":NaN}},"clientToken":"t"}', 400, INVALID_JSON, False),
    ("array-root", b'[{"state":{"desired":{"a":1}}}]', 400, INVALID_JSON, False),
    ("string-root", b'"state"', 400, INVALID_JSON, False),
    ("not-utf8", b'{"state":{"desired":{"a":"\xff\xfe"}},"clientToken":"t"}', 415, UTF8_MESSAGE, False),
    ("latin1-text", '{"state":{"desired":{"a":"café"}}}'.encode("latin-1"), 415, UTF8_MESSAGE, False),
    ("missing-state", doc({"desired": {"a": 1}, "clientToken": TOKEN}), 400, NO_STATE, True),
    ("empty-object", doc({"clientToken": TOKEN}), 400, NO_STATE, True),
    ("state-string", doc({"state": "on", "clientToken": TOKEN}), 400, STATE_TYPE, True),
    ("state-array", doc({"state": [1, 2], "clientToken": TOKEN}), 400, STATE_TYPE, True),
    ("state-number", doc({"state": 5, "clientToken": TOKEN}), 400, STATE_TYPE, True),
    ("state-boolean", doc({"state": True, "clientToken": TOKEN}), 400, STATE_TYPE, True),
    ("desired-number", doc({"state": {"desired": 5}, "clientToken": TOKEN}), 400, DESIRED_TYPE, True),
    ("desired-string", doc({"state": {"desired": "on"}, "clientToken": TOKEN}), 400, DESIRED_TYPE, True),
    ("desired-array", doc({"state": {"desired": [{"a": 1}]}, "clientToken": TOKEN}), 400, DESIRED_TYPE, True),
    ("reported-array", doc({"state": {"reported": ["a"]}, "clientToken": TOKEN}), 400, REPORTED_TYPE, True),
    ("reported-boolean", doc({"state": {"reported": False}, "clientToken": TOKEN}), 400, REPORTED_TYPE, True),
    ("unknown-node", doc({"state": {"desired": {"a": 1}, "foo": 1}, "clientToken": TOKEN}), 400, "State contains an invalid node: 'foo'", True),
    ("delta-node", doc({"state": {"delta": {"a": 1}}, "clientToken": TOKEN}), 400, "State contains an invalid node: 'delta'", True),
    ("metadata-node", doc({"state": {"metadata": {}}, "clientToken": TOKEN}), 400, "State contains an invalid node: 'metadata'", True),
    ("too-deep-object", doc({"state": {"reported": nest(7, "x")}, "clientToken": TOKEN}), 400, NESTING, True),
    ("too-deep-array", doc({"state": {"desired": nest(6, [1])}, "clientToken": TOKEN}), 400, NESTING, True),
    # Deeper than any parser should follow: the same refusal, not a crash.
    ("very-deep", b'{"state":{"reported":' + b'{"a":' * 2000 + b"1" + b"}" * 2002, 400, NESTING, False),
    ("array-null", doc({"state": {"desired": {"colors": [None, "RED"]}}, "clientToken": TOKEN}), 400, INVALID_JSON, True),
    ("array-null-last", doc({"state": {"reported": {"a": [1, None]}}, "clientToken": TOKEN}), 400, INVALID_JSON, True),
    # Moss refuses nulls anywhere inside an array (spec question 5).
    ("array-object-null", doc({"state": {"reported": {"a": [{"b": None}]}}, "clientToken": TOKEN}), 400, INVALID_JSON, True),
    ("array-array-null", doc({"state": {"desired": {"a": [[1, None]]}}, "clientToken": TOKEN}), 400, INVALID_JSON, True),
    ("token-number", doc({"state": GOOD_STATE, "clientToken": 5}), 400, BAD_TOKEN, False),
    ("token-boolean", doc({"state": GOOD_STATE, "clientToken": True}), 400, BAD_TOKEN, False),
    ("token-object", doc({"state": GOOD_STATE, "clientToken": {"t": 1}}), 400, BAD_TOKEN, False),
    ("token-65-bytes", doc({"state": GOOD_STATE, "clientToken": "x" * 65}), 400, BAD_TOKEN, False),
    # 33 characters but 66 bytes: the limit counts bytes (spec §7).
    ("token-66-utf8-bytes", doc({"state": GOOD_STATE, "clientToken": "é" * 33}), 400, BAD_TOKEN, False),
    ("version-string", doc({"state": GOOD_STATE, "version": "abc", "clientToken": TOKEN}), 400, BAD_VERSION, True),
    ("version-numeric-string", doc({"state": GOOD_STATE, "version": "2", "clientToken": TOKEN}), 400, BAD_VERSION, True),
    ("version-negative", doc({"state": GOOD_STATE, "version": -1, "clientToken": TOKEN}), 400, BAD_VERSION, True),
    ("version-float", doc({"state": GOOD_STATE, "version": 1.5, "clientToken": TOKEN}), 400, BAD_VERSION, True),
    ("version-true", doc({"state": GOOD_STATE, "version": True, "clientToken": TOKEN}), 400, BAD_VERSION, True),
    ("version-false", doc({"state": GOOD_STATE, "version": False, "clientToken": TOKEN}), 400, BAD_VERSION, True),
    ("version-array", doc({"state": GOOD_STATE, "version": [2], "clientToken": TOKEN}), 400, BAD_VERSION, True),
    ("version-stale", doc({"state": GOOD_STATE, "version": 1, "clientToken": TOKEN}), 409, CONFLICT, True),
    ("version-ahead", doc({"state": GOOD_STATE, "version": 3, "clientToken": TOKEN}), 409, CONFLICT, True),
    ("oversize-request", doc({"state": {"reported": {"blob": "x" * 9000}}, "clientToken": TOKEN}), 413, TOO_LARGE, True),
    # 44 bytes of request, but the merged state crosses the limit (spec §3.6).
    ("oversize-merged", doc({"state": {"reported": {"b": "y" * 4000}}, "clientToken": TOKEN}), 413, TOO_LARGE, True),
]

# Each input over MQTT and over REST, on a classic and on a named shadow.
VARIANTS = [("mqtt", None), ("mqtt", "cfg"), ("rest", None), ("rest", "cfg")]


@pytest.fixture
def shadow(admin: AdminAPI, mqtt: ShadowClient):
    """A fresh shadow at version 2 (made through the admin API; its publications are discarded)."""
    thing = unique("bad")
    mqtt.watch(thing)

    def make(name: str | None) -> tuple[str, str | None, dict]:
        for request in SETUP:
            reply = admin.update_shadow(thing, request, name)
            assert reply.status == 200, reply.body
        mqtt.barrier()
        mqtt.discard_pending(thing)
        before = admin.document(thing, name)
        assert before["version"] == 2
        return thing, name, before

    return make


def assert_unchanged(admin: AdminAPI, thing: str, name: str | None, before: dict) -> None:
    after = admin.document(thing, name)
    assert after is not None, "the shadow is gone"
    assert_matches({**before, "timestamp": "TS"}, after, what="the shadow after a rejected request")


@pytest.mark.parametrize("transport,name", VARIANTS, ids=["mqtt-classic", "mqtt-named", "rest-classic", "rest-named"])
@pytest.mark.parametrize(
    "payload,code,message,echoes", [case[1:] for case in BAD_UPDATES], ids=[case[0] for case in BAD_UPDATES]
)
def test_bad_update_is_refused_and_changes_nothing(
    shadow, admin: AdminAPI, mqtt: ShadowClient, transport, name, payload, code, message, echoes
):
    thing, name, before = shadow(name)
    if transport == "mqtt":
        mqtt.publish(shadow_topic(thing, name, "update"), payload)
        rejected = mqtt.take(shadow_topic(thing, name, "update/rejected")).json()
        expected = {"code": code, "message": message, **({"clientToken": TOKEN} if echoes else {})}
        assert_matches(expected, rejected, error=True, what="update/rejected")
    else:
        assert_rest_error(admin.update_shadow(thing, payload, name), code, message)
    mqtt.assert_quiet(thing)  # only the rejection (MQTT), or nothing at all (REST errors are not published)
    assert_unchanged(admin, thing, name, before)


def test_version_on_a_shadow_that_does_not_exist_is_a_conflict(admin: AdminAPI, mqtt: ShadowClient):
    """A chosen behaviour (spec §6 leaves it open): 409, and the shadow is still not there."""
    thing = unique("noversion")
    mqtt.watch(thing)
    mqtt.publish(shadow_topic(thing, None, "update"), {"state": GOOD_STATE, "version": 0, "clientToken": TOKEN})
    rejected = mqtt.take(shadow_topic(thing, None, "update/rejected")).json()
    assert_matches({"code": 409, "message": CONFLICT, "clientToken": TOKEN}, rejected, error=True)
    assert_rest_error(admin.update_shadow(thing, {"state": GOOD_STATE, "version": 1}, "n"), 409, CONFLICT)
    mqtt.assert_quiet(thing)
    assert admin.document(thing) is None and admin.document(thing, "n") is None


@pytest.mark.parametrize("section_split", [False, True], ids=["reported-only", "desired-and-reported"])
def test_the_state_limit_is_8192_bytes_of_compact_desired_plus_reported(admin: AdminAPI, mqtt: ShadowClient, section_split):
    """Exactly 8192 bytes of compact JSON fit; one more byte is 413. Whitespace in the request does not count."""
    thing = unique("limit")
    mqtt.watch(thing)

    def state(extra: int) -> dict:
        if section_split:  # {"a":"x…"} is 8 bytes of syntax around the string: 2 × (8 + 4088) = 8192
            return {"desired": {"a": "x" * 4088}, "reported": {"a": "x" * (4088 + extra)}}
        return {"reported": {"a": "x" * (8184 + extra)}}

    spaced = json.dumps({"state": state(0)}, indent=4).encode()
    reply = admin.update_shadow(thing, spaced)
    assert reply.status == 200, reply.body
    assert reply.json()["version"] == 1
    mqtt.barrier()
    mqtt.discard_pending(thing)
    before = admin.document(thing)

    mqtt.publish(shadow_topic(thing, None, "update"), {"state": state(1)})
    rejected = mqtt.take(shadow_topic(thing, None, "update/rejected")).json()
    assert_matches({"code": 413, "message": TOO_LARGE}, rejected, error=True)
    assert_rest_error(admin.update_shadow(thing, {"state": state(1)}), 413, TOO_LARGE)
    mqtt.assert_quiet(thing)
    assert_unchanged(admin, thing, None, before)


@pytest.mark.parametrize("length,name_length", [(129, None), (20, 65)], ids=["thing-129", "shadow-65"])
def test_names_over_the_limit_are_refused_by_the_admin_api(admin: AdminAPI, mqtt: ShadowClient, length, name_length):
    thing = unique("long")
    thing = thing + "t" * (length - len(thing))
    name = None if name_length is None else "s" * name_length
    limit = "128" if name_length is None else "64"
    mqtt.watch(thing)
    replies = [
        admin.update_shadow(thing, {"state": GOOD_STATE}, name),
        admin.get_shadow(thing, name),
        admin.delete_shadow(thing, name),
    ]
    for reply in replies:
        assert reply.status == 400, reply.body
        assert reply.header("x-amzn-ErrorType") == "InvalidRequestException"
        body = reply.json()
        assert set(body) <= {"message", "timestamp"} and limit in body["message"], body
    mqtt.assert_quiet(thing)  # refused REST requests publish nothing


@pytest.mark.parametrize("thing_length,name_length", [(128, None), (20, 64)], ids=["thing-128", "shadow-64"])
def test_names_at_the_limit_are_accepted(admin: AdminAPI, thing_length, name_length):
    thing = unique("edge")
    thing = thing + "t" * (thing_length - len(thing))
    name = None if name_length is None else "s" * name_length
    reply = admin.update_shadow(thing, {"state": GOOD_STATE}, name)
    assert reply.status == 200, reply.body
    assert admin.document(thing, name)["version"] == 1
    assert admin.delete_shadow(thing, name).status == 200


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_a_wrong_verb_is_405(shadow, admin: AdminAPI, mqtt: ShadowClient, method):
    thing, name, before = shadow(None)
    reply = admin.request(method, AdminAPI.shadow_path(thing), doc({"state": GOOD_STATE}))
    assert reply.status == 405, reply.body
    assert reply.header("x-amzn-ErrorType") == "MethodNotAllowedException"
    body = reply.json()
    assert isinstance(body.get("message"), str) and set(body) <= {"message", "timestamp"}, body
    mqtt.assert_quiet(thing)
    assert_unchanged(admin, thing, name, before)


@pytest.mark.parametrize(
    "suffix", ["update/accepted", "update/rejected", "update/delta", "update/documents", "get/accepted", "delete/accepted"]
)
def test_client_publishes_on_reply_topics_are_ignored(shadow, admin: AdminAPI, mqtt: ShadowClient, suffix):
    """Only get, update and delete are requests; a client publishing on a reply topic changes nothing."""
    thing, name, before = shadow(None)
    topic = shadow_topic(thing, name, suffix)
    mqtt.publish(topic, {"state": {"desired": {"a": 99}}, "clientToken": TOKEN})
    assert mqtt.take(topic).json()["clientToken"] == TOKEN  # our own publish, echoed by the broker to us
    mqtt.assert_quiet(thing)
    assert_unchanged(admin, thing, name, before)


@pytest.mark.parametrize("payload", [b"not json", b'{"clientToken":5}', b'{"clientToken":"' + b"x" * 65 + b'"}', b"\xff\xfe", b"[1]"])
def test_get_and_delete_read_only_a_valid_client_token(shadow, mqtt: ShadowClient, payload):
    """The payload of get and delete is ignored except for a valid clientToken (a choice: the cloud ignores it)."""
    thing, name, before = shadow(None)
    mqtt.publish(shadow_topic(thing, name, "get"), payload)
    assert_matches({**before, "timestamp": "TS"}, mqtt.take(shadow_topic(thing, name, "get/accepted")).json())
    mqtt.publish(shadow_topic(thing, name, "delete"), payload)
    assert_matches({"version": 2, "timestamp": "TS"}, mqtt.take(shadow_topic(thing, name, "delete/accepted")).json())
    mqtt.assert_quiet(thing)


def test_a_retained_request_is_processed_once(shadow_daemon, mqtt: ShadowClient, admin: AdminAPI):
    """The retained copy a later subscriber receives is a delivery, not a second request."""
    thing = unique("retained")
    mqtt.watch(thing)
    mqtt.publish(shadow_topic(thing, None, "update"), {"state": {"reported": {"a": 1}}}, retain=True)
    assert mqtt.take(shadow_topic(thing, None, "update/accepted")).json()["version"] == 1
    mqtt.barrier()
    mqtt.discard_pending(thing)

    late = ShadowClient(shadow_daemon.mqtt_port).connect()
    try:
        late.watch(thing)  # gets the retained request
        late.take(shadow_topic(thing, None, "update"))
        late.assert_quiet(thing)
    finally:
        late.close()
    mqtt.assert_quiet(thing)
    assert admin.document(thing)["version"] == 1
