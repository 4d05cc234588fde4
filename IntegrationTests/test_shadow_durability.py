"""kill -9 durability: an update acknowledged on update/accepted survives SIGKILL of the daemon, and what is stored
is exactly a prefix of the updates sent to that shadow, in send order (nothing half-applied, nothing reordered).

Each round: a paho client streams QoS 1 updates to 10 shadows, at most WINDOW unanswered at a time (reported
{"seq": n, "pad": ...}, sometimes desired changes and removals, clientToken = str(n)), and records every
update/accepted. After a random number of accepted replies the daemon gets SIGKILL, with updates still in flight;
it restarts on the same data directory and every shadow is read back through the admin API. The rounds share one
data directory, so each round also recovers from all the earlier kills.

MOSS_SHADOW_KILL_ROUNDS (default 5) sets the number of rounds; MOSS_SHADOW_KILL_SEED the random seed.
"""

from __future__ import annotations

import os
import random
import signal
from types import SimpleNamespace

import pytest

from conftest import start_moss
from shadow_helpers import AdminAPI, ShadowClient, assert_matches, requires_binary, shadow_topic, unique

ROUNDS = int(os.environ.get("MOSS_SHADOW_KILL_ROUNDS", "5"))
SEED = int(os.environ.get("MOSS_SHADOW_KILL_SEED", "7"))
STREAM_TIMEOUT = 60.0
# Unanswered updates allowed at once: below AWS's 10 in-flight requests per thing, so nothing is throttled.
WINDOW = 8


@pytest.fixture(scope="module")
def crashable(request, tmp_path_factory):
    """A daemon on its own data directory; tests kill it and start it again (`restart`)."""
    requires_binary()
    binary = request.getfixturevalue("moss_binary")
    data_dir = tmp_path_factory.mktemp("kill") / "data"
    holder = SimpleNamespace(moss=start_moss(binary, data_dir), killed_log="")

    def restart():
        holder.killed_log = holder.moss.log()  # start_moss overwrites the log file
        # SIGKILL leaves ports.json behind; start_moss waits for a fresh one.
        (data_dir / "ports.json").unlink(missing_ok=True)
        holder.moss = start_moss(binary, data_dir)

    holder.restart = restart
    try:
        yield holder
    finally:
        if holder.moss.process.poll() is None:
            status = holder.moss.stop()
            assert status == 0, f"moss exited with {status} on SIGTERM after the kill rounds; log:\n{holder.moss.log()}"


def apply(state: dict, request: dict) -> dict:
    """The shadow state after one of this test's updates: flat sections, scalar values, null removes a key."""
    state = {section: dict(values) for section, values in state.items()}
    for section, patch in request["state"].items():
        values = state.setdefault(section, {})
        for key, value in patch.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        if not values:
            del state[section]
    return state


def expected_get(state: dict, version: int) -> dict:
    """The GET document of a flat state (the desired keys are never reported, so the delta is all of desired)."""
    document_state = dict(state)
    if "desired" in state:
        document_state["delta"] = state["desired"]
    metadata = {section: {key: {"timestamp": "TS"} for key in values} for section, values in state.items()}
    return {"state": document_state, "metadata": metadata, "version": version, "timestamp": "TS"}


@pytest.mark.parametrize("round_number", range(ROUNDS), ids=[f"round{r}" for r in range(ROUNDS)])
def test_acknowledged_updates_survive_kill_9(crashable, round_number):
    rng = random.Random(SEED * 1000 + round_number)
    things = [unique(f"kill{round_number}"), unique(f"kill{round_number}")]
    shadows = [(thing, name) for thing in things for name in (None, "s1", "s2", "s3", "s4")]
    kill_after = rng.randint(1, 400)

    client = ShadowClient(crashable.moss.mqtt_port).connect()
    try:
        client.watch(*things)
        sent: dict[tuple, list[dict]] = {key: [] for key in shadows}
        accepted = lambda topic: topic.endswith("/update/accepted")  # noqa: E731
        answered = lambda topic: topic.endswith(("/update/accepted", "/update/rejected"))  # noqa: E731
        published = 0
        # Stream with a window of unanswered updates (like a device would), and kill mid-stream: the last
        # WINDOW updates may be anywhere between received and committed when the signal lands.
        while client.count(accepted) < kill_after:
            client.wait_for(lambda: published - client.count(answered) < WINDOW, "a free slot", timeout=STREAM_TIMEOUT)
            n = published
            key = rng.choice(shadows)
            request = {"state": {"reported": {"seq": n, "pad": f"{n:06d}-" + "p" * rng.randint(0, 200)}}, "clientToken": str(n)}
            if rng.random() < 0.3:
                request["state"]["desired"] = {rng.choice(["mode", "level", "flag"]): rng.choice([None, "eco", 3, True])}
            sent[key].append(request)
            client.publish(shadow_topic(*key, "update"), request, wait=False)
            published += 1
        crashable.moss.process.send_signal(signal.SIGKILL)
        crashable.moss.process.wait()
    finally:
        client.close()

    # What the daemon acknowledged: per shadow, token -> version, which must follow the send order.
    acknowledged: dict[tuple, int] = {}
    rejected = client.count(lambda topic: topic.endswith("/update/rejected"))
    assert rejected == 0, f"{rejected} updates were rejected"
    for key in shadows:
        order = {request["clientToken"]: index for index, request in enumerate(sent[key], 1)}
        for message in client.received(shadow_topic(*key, "update/accepted")):
            reply = message.json()
            assert reply["version"] == order[reply["clientToken"]], (
                f"{key}: update {reply['clientToken']} was accepted as version {reply['version']}, "
                f"but it is update {order[reply['clientToken']]} of that shadow"
            )
            acknowledged[key] = max(acknowledged.get(key, 0), reply["version"])
    assert sum(acknowledged.values()) >= kill_after

    crashable.restart()
    admin = AdminAPI(crashable.moss.admin_socket)
    for key in shadows:
        stored = admin.document(*key)
        version = 0 if stored is None else stored["version"]
        assert version >= acknowledged.get(key, 0), (
            f"{key}: version {acknowledged[key]} was acknowledged before the kill, but version {version} was "
            f"recovered; the killed daemon's log ends with:\n{crashable.killed_log[-3000:]}"
        )
        assert version <= len(sent[key]), f"{key}: version {version}, but only {len(sent[key])} updates were sent"
        if stored is None:
            continue
        state: dict = {}
        for request in sent[key][:version]:
            state = apply(state, request)
        assert_matches(expected_get(state, version), stored, what=f"{key} after the restart (version {version})")

    # The recovered daemon goes on from where its store is.
    key = rng.choice(shadows)
    before = admin.document(*key)
    thing, name = key
    reply = admin.update_shadow(thing, {"state": {"reported": {"after": "restart"}}}, name)
    assert reply.status == 200, reply.body
    assert reply.json()["version"] == (before["version"] if before else 0) + 1
