"""The 48 conformance vectors of the shadow spec (§12.2, Tests/MossShadowTests/Fixtures/vectors.json), replayed
against one daemon: MQTT steps with paho on the plain listener, HTTP steps on the admin API (`/v1` + the spec's
path). Each vector gets fresh thing names, substituted in topics, paths and expected 404 messages.

Beyond the vector text, every step is checked to publish nothing else under the vector's things (a barrier
proves it), REST errors and REST GETs publish nothing, a REST update publishes the same document on
update/accepted (plus update/documents, and at most one update/delta), and a REST delete publishes
delete/accepted.
"""

from __future__ import annotations

import pytest

from shadow_helpers import (  # noqa: F401 (fixtures)
    AdminAPI,
    Bindings,
    ShadowClient,
    admin,
    assert_matches,
    assert_rest_error,
    load_vectors,
    mqtt,
    shadow_daemon,
    unique,
    wait_for_next_second,
)

VECTORS = load_vectors()


def substitute_messages(document, names: dict[str, str]):
    """Expected 404 messages name the thing: `'T1'` becomes `'<fresh name>'` (only in `message` values)."""
    if isinstance(document, dict):
        out = {}
        for key, value in document.items():
            if key == "message" and isinstance(value, str):
                for placeholder, fresh in names.items():
                    value = value.replace(f"'{placeholder}'", f"'{fresh}'")
                out[key] = value
            else:
                out[key] = substitute_messages(value, names)
        return out
    if isinstance(document, list):
        return [substitute_messages(item, names) for item in document]
    return document


def substitute_segments(text: str, names: dict[str, str]) -> str:
    """Replaces thing names that are whole path segments of a topic or a path."""
    head, sep, query = text.partition("?")
    segments = [names.get(segment, segment) for segment in head.split("/")]
    return "/".join(segments) + sep + query


def shadow_prefix_of(topic: str) -> str:
    """The shadow prefix of a request topic (`$aws/things/T/shadow[/name/N]`)."""
    return topic.rsplit("/", 1)[0]


def test_the_fixture_has_all_48_vectors():
    assert [vector["id"] for vector in VECTORS] == [f"V{i:02d}" for i in range(1, 49)]


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["id"] for vector in VECTORS])
def test_vector(vector, mqtt: ShadowClient, admin: AdminAPI):
    names = {placeholder: unique(vector["id"].lower()) for placeholder in vector["things"]}
    things = list(names.values())
    mqtt.watch(*things)
    bindings = Bindings()
    previous_label = None

    for number, step in enumerate(vector["steps"], 1):
        where = f"{vector['id']} step {number}"
        if step["label"] and previous_label:
            # Labels must bind to increasing seconds: let the clock pass the previous label's value.
            wait_for_next_second(bindings.values[previous_label], admin)
        if step["kind"] == "publish":
            run_publish_step(step, names, mqtt, bindings, where)
        else:
            run_http_step(step, names, mqtt, admin, bindings, where)
        # The step published exactly what it lists: nothing more, under any shadow of the vector's things.
        mqtt.assert_quiet(*things)
        if step["label"]:
            previous_label = step["label"]

    problems = bindings.order_problems()
    assert not problems, f"{vector['id']}: {problems}"


def run_publish_step(step: dict, names: dict[str, str], mqtt: ShadowClient, bindings: Bindings, where: str) -> None:
    topic = substitute_segments(step["topic"], names)
    prefix = shadow_prefix_of(topic)
    payload = None if step["payload"] is None else step["payload"].encode()
    mqtt.publish(topic, payload)
    for expected in step["expect"]:
        message = mqtt.take(f"{prefix}/{expected['suffix']}")
        assert_matches(
            substitute_messages(expected["document"], names),
            message.json(),
            bindings=bindings,
            error=expected["suffix"].endswith("/rejected"),
            what=f"{where}: {expected['suffix']}",
        )
    # `forbid` is enforced by the caller's assert_quiet: nothing untaken may remain after the barrier.


def run_http_step(
    step: dict, names: dict[str, str], mqtt: ShadowClient, admin: AdminAPI, bindings: Bindings, where: str
) -> None:
    path = "/v1" + substitute_segments(step["path"], names)
    body = None if step["body"] is None else step["body"].encode()
    reply = admin.request(step["method"], path, body)
    expected = substitute_messages(step["response"], names)
    if step["status"] >= 400:
        assert_rest_error(reply, step["status"], expected["message"], what=where)
        return  # REST errors publish nothing on MQTT (checked by the caller's assert_quiet)
    assert reply.status == step["status"], f"{where}: HTTP {reply.status}: {reply.body[:300]!r}"
    document = reply.json()
    assert_matches(expected, document, bindings=bindings, what=where)

    # The MQTT side of a successful REST call.
    if step["method"] == "POST":
        prefix = rest_shadow_prefix(path)
        accepted = mqtt.take(f"{prefix}/update/accepted").json()
        assert accepted == document, f"{where}: update/accepted differs from the REST reply: {accepted} != {document}"
        documents = mqtt.take(f"{prefix}/update/documents").json()
        assert documents["current"]["version"] == document["version"], f"{where}: {documents}"
        assert documents["timestamp"] == document["timestamp"], f"{where}: {documents}"
        mqtt.barrier()
        deltas = [m for m in mqtt.pending(path_thing(path)) if m.topic == f"{prefix}/update/delta"]
        assert len(deltas) <= 1, f"{where}: {len(deltas)} delta messages"
        for message in deltas:
            assert mqtt.take(message.topic).json()["version"] == document["version"]
    elif step["method"] == "DELETE":
        prefix = rest_shadow_prefix(path)
        deleted = mqtt.take(f"{prefix}/delete/accepted").json()
        assert deleted == document, f"{where}: delete/accepted differs from the REST reply: {deleted} != {document}"


def path_thing(path: str) -> str:
    return path.split("?")[0].split("/")[3]


def rest_shadow_prefix(path: str) -> str:
    """The MQTT shadow prefix of a REST path `/v1/things/T/shadow[?name=N]`."""
    query = path.partition("?")[2]
    name = None
    for part in query.split("&"):
        if part.startswith("name="):
            name = part[len("name=") :]
    return f"$aws/things/{path_thing(path)}/shadow" + (f"/name/{name}" if name else "")
