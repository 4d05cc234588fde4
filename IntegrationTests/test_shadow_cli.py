"""`moss shadow get|update|delete|list` through the admin API: JSON on stdout and exit 0 on success, a non-zero exit
with the AWS code and message on stderr on refusal; `--json`, `--name`, and the update document from stdin (`-`).
Also the listing routes the CLI stands on: ListNamedShadowsForThing pages and `/v1/shadows`."""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import run_moss
from shadow_helpers import (  # noqa: F401 (fixtures)
    AdminAPI,
    ShadowClient,
    admin,
    assert_matches,
    mqtt,
    requires_binary,
    shadow_daemon,
    shadow_topic,
    unique,
)


@pytest.fixture
def daemon(shadow_daemon):
    requires_binary()
    return shadow_daemon


def moss_json(daemon, *arguments: str) -> dict:
    result = daemon.moss("shadow", *arguments, "--json")
    assert result.returncode == 0, f"moss shadow {' '.join(arguments)} exited {result.returncode}:\n{result.stderr}"
    try:
        return json.loads(result.stdout)
    except ValueError:
        pytest.fail(f"moss shadow {' '.join(arguments)} --json printed no JSON document:\n{result.stdout}")


def assert_refused(result: subprocess.CompletedProcess, code: int, message: str) -> None:
    assert result.returncode != 0, f"expected a refusal, got exit 0:\n{result.stdout}"
    assert str(code) in result.stderr and message in result.stderr, result.stderr


def test_update_get_delete_of_a_classic_shadow(daemon, mqtt: ShadowClient):
    thing = unique("cli")
    mqtt.watch(thing)
    accepted = moss_json(daemon, "update", thing, '{"state":{"desired":{"color":"red"}},"clientToken":"cli-1"}')
    assert_matches(
        {"state": {"desired": {"color": "red"}}, "metadata": {"desired": {"color": {"timestamp": "TS"}}}, "version": 1, "timestamp": "TS", "clientToken": "cli-1"},
        accepted,
    )
    # The CLI's update is a REST update: it is published like any other.
    assert mqtt.take(shadow_topic(thing, None, "update/accepted")).json() == accepted

    got = moss_json(daemon, "get", thing)
    assert_matches(
        {"state": {"desired": {"color": "red"}, "delta": {"color": "red"}}, "metadata": {"desired": {"color": {"timestamp": "TS"}}}, "version": 1, "timestamp": "TS"},
        got,
    )

    deleted = moss_json(daemon, "delete", thing)
    assert_matches({"version": 1, "timestamp": "TS"}, deleted)
    assert mqtt.take(shadow_topic(thing, None, "delete/accepted")).json() == deleted

    assert_refused(daemon.moss("shadow", "get", thing), 404, f"No shadow exists with name: '{thing}'")
    assert_refused(daemon.moss("shadow", "delete", thing, "--json"), 404, f"No shadow exists with name: '{thing}'")


def test_update_of_a_named_shadow_from_stdin(daemon):
    thing = unique("cli")
    document = '{"state": {"reported": {"fw": "1.0", "list": [1, 2]}}}\n'
    result = subprocess.run(
        [str(daemon.binary), "shadow", "update", thing, "--name", "cfg", "-", "--json", "--data-dir", str(daemon.data_dir)],
        input=document,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert_matches(
        {
            "state": {"reported": {"fw": "1.0", "list": [1, 2]}},
            "metadata": {"reported": {"fw": {"timestamp": "TS"}, "list": [{"timestamp": "TS"}, {"timestamp": "TS"}]}},
            "version": 1,
            "timestamp": "TS",
        },
        json.loads(result.stdout),
    )
    got = moss_json(daemon, "get", thing, "--name", "cfg")
    assert got["state"] == {"reported": {"fw": "1.0", "list": [1, 2]}} and got["version"] == 1
    # The named shadow is not the classic one.
    assert_refused(daemon.moss("shadow", "get", thing), 404, f"No shadow exists with name: '{thing}'")
    assert_refused(daemon.moss("shadow", "get", thing, "--name", "other"), 404, "No shadow exists with name: 'other'")


def test_refusals_name_the_aws_code_and_message(daemon):
    thing = unique("cli")
    assert_refused(daemon.moss("shadow", "update", thing, '{"state":"on"}'), 400, "State node must be an object")
    assert_refused(daemon.moss("shadow", "update", thing, '{"state":{"reported":{"a":1}},"version":3}'), 409, "Version conflict")
    moss_json(daemon, "update", thing, '{"state":{"reported":{"a":1}}}')
    assert_refused(daemon.moss("shadow", "update", thing, '{"state":{"reported":{"a":2}},"version":7}', "--json"), 409, "Version conflict")
    assert moss_json(daemon, "get", thing)["version"] == 1


def test_list_shows_every_shadow_sorted(daemon):
    thing = unique("cli")
    for name in ("zeta", None, "alpha"):
        moss_json(daemon, "update", thing, *(["--name", name] if name else []), '{"state":{"reported":{"on":true}}}')
    moss_json(daemon, "update", thing, '{"state":{"reported":{"on":false}}}')
    expected = [
        {"thing": thing, "name": None, "version": 2},
        {"thing": thing, "name": "alpha", "version": 1},
        {"thing": thing, "name": "zeta", "version": 1},
    ]
    assert moss_json(daemon, "list", thing) == {"shadows": expected}

    everything = moss_json(daemon, "list")["shadows"]
    assert [entry for entry in everything if entry["thing"] == thing] == expected
    order = [(entry["thing"], entry["name"] is not None, entry["name"] or "") for entry in everything]
    assert order == sorted(order), "sorted by thing, then name, the classic shadow first"


def test_output_without_json_is_still_readable(daemon):
    thing = unique("cli")
    update = daemon.moss("shadow", "update", thing, '{"state":{"desired":{"color":"blue"}}}')
    assert update.returncode == 0, update.stderr
    get = daemon.moss("shadow", "get", thing)
    assert get.returncode == 0, get.stderr
    assert "color" in get.stdout and "blue" in get.stdout
    listing = daemon.moss("shadow", "list", thing)
    assert listing.returncode == 0, listing.stderr
    assert thing in listing.stdout


def test_shadow_commands_fail_clearly_when_no_daemon_runs(daemon, tmp_path):
    result = run_moss(daemon.binary, "shadow", "get", "some-thing", "--data-dir", str(tmp_path))
    assert result.returncode != 0
    assert "Moss is not running" in result.stderr


# MARK: The listing routes of the admin API


def test_list_named_shadows_pages_through_sorted_names(admin: AdminAPI, mqtt: ShadowClient):
    thing = unique("pages")
    mqtt.watch(thing)
    names = ["n3", "n1", "n5", "n2", "n4"]
    for name in [None, *names]:
        assert admin.update_shadow(thing, {"state": {"reported": {"x": 1}}}, name).status == 200
    mqtt.barrier()
    mqtt.discard_pending(thing)

    whole = admin.list_named(thing)
    assert whole.status == 200, whole.body
    assert_matches({"results": sorted(names), "timestamp": "TS"}, whole.json())

    collected, token, pages = [], None, 0
    while True:
        reply = admin.list_named(thing, page_size=2, next_token=token)
        assert reply.status == 200, reply.body
        page = reply.json()
        assert set(page) <= {"results", "nextToken", "timestamp"} and isinstance(page["timestamp"], int), page
        assert len(page["results"]) <= 2
        collected += page["results"]
        pages += 1
        token = page.get("nextToken")
        if token is None:
            break
        assert pages < 10, "the pages never end"
    assert collected == sorted(names)
    assert pages in (3, 4)  # 2 + 2 + 1, perhaps with an empty last page

    # An unknown thing has no named shadows; it is not an error.
    assert_matches({"results": [], "timestamp": "TS"}, admin.list_named(unique("nobody")).json())
    mqtt.assert_quiet(thing)  # admin GETs publish nothing


def test_v1_shadows_lists_versions_by_thing(admin: AdminAPI):
    first, second = sorted([unique("listing"), unique("listing")])
    for thing, name, times in [(second, None, 1), (first, "b", 2), (first, None, 1), (first, "a", 1)]:
        for _ in range(times):
            assert admin.update_shadow(thing, {"state": {"reported": {"x": 1}}}, name).status == 200
    assert admin.list_shadows(first).json() == {
        "shadows": [
            {"thing": first, "name": None, "version": 1},
            {"thing": first, "name": "a", "version": 1},
            {"thing": first, "name": "b", "version": 2},
        ]
    }
    assert admin.delete_shadow(first, "a").status == 200
    everything = admin.list_shadows().json()["shadows"]
    assert [e for e in everything if e["thing"] in (first, second)] == [
        {"thing": first, "name": None, "version": 1},
        {"thing": first, "name": "b", "version": 2},
        {"thing": second, "name": None, "version": 1},
    ]
    assert admin.list_shadows(unique("nobody")).json() == {"shadows": []}
