"""Who functions run as (issue 5, Users): as root, Moss runs every function as its runAs user or the default user
(ggc_user/ggc_group where they exist, else nobody/nogroup), as root only when the core configuration allows it, and
refuses at deployment a function whose user could not reach its interpreter or code. Not as root, it cannot switch
users, and a runAs naming another is refused.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import sys
from pathlib import Path

import pytest

from broker_helpers import Clients
from conftest import start_moss
from function_helpers import functions_config, write_function

pytest.importorskip("greengrasssdk", reason="pip install greengrasssdk==1.6.1 (scripts/test.sh does)")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")

WHOAMI = '''\
import json
import os
import greengrasssdk

iot = greengrasssdk.client("iot-data")

def handler(event, context):
    iot.publish(topic="out/whoami", payload=json.dumps({
        "uid": os.getuid(), "gid": os.getgid(), "groups": sorted(os.getgroups()), "home": os.environ.get("HOME"),
    }))
'''


def group_file(isolation: str, run_as: str = "") -> str:
    return f"""\
core:
  thingName: gateway
devices:
  - thingName: sensor
functions:
  - id: whoami
    name: whoami
    runtime: python3.11
    handler: whoami.handler
    code: whoami
    timeout: 20
    isolationMode: {isolation}
{run_as}subscriptions:
  - id: in
    source: device:sensor
    subject: in
    target: function:whoami
  - id: out
    source: function:whoami
    subject: out/#
    target: device:sensor
"""


def default_user() -> tuple[int, int]:
    """Moss's documented default: ggc_user/ggc_group where both exist, else nobody/nogroup."""
    for user, group in (("ggc_user", "ggc_group"), ("nobody", "nogroup")):
        try:
            return pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
        except KeyError:
            continue
    pytest.skip("this host has neither ggc_user/ggc_group nor nobody/nogroup")


def whoami(moss) -> dict:
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        sensor.subscribe(("out/#", 1))
        sensor.publish("in", b"{}", qos=1)
        return json.loads(sensor.expect_publish(topic="out/whoami", timeout=30).payload)
    finally:
        clients.close_all()


def deployed(moss_binary, workspace: Path, group: str, config: str = ""):
    """Starts Moss and deploys `group`; returns (moss, the deploy result)."""
    if not (workspace / "whoami").exists():
        write_function(workspace, "whoami", WHOAMI)
    (workspace / "group.yaml").write_text(group)
    (workspace / "moss.yaml").write_text(functions_config(config))
    moss = start_moss(moss_binary, workspace / "data", "--config", str(workspace / "moss.yaml"))
    return moss, moss.moss("deploy", str(workspace / "group.yaml"))


@needs_root
@pytest.mark.parametrize("isolation", ["NoContainer", "GreengrassContainer"])
def test_as_root_a_function_without_run_as_runs_as_the_default_user(moss_binary, workspace, isolation):
    moss, result = deployed(moss_binary, workspace, group_file(isolation))
    try:
        assert result.returncode == 0, result.stderr
        uid, gid = default_user()
        seen = whoami(moss)
        assert (seen["uid"], seen["gid"], seen["groups"]) == (uid, gid, [])
        # Its own home, not the daemon's /root.
        assert seen["home"] == pwd.getpwuid(uid).pw_dir
    finally:
        assert moss.stop() == 0, moss.log()


@needs_root
def test_run_as_picks_the_user_and_the_group(moss_binary, workspace):
    moss, result = deployed(moss_binary, workspace, group_file("NoContainer", "    runAs: {uid: 4321, gid: 4322}\n"))
    try:
        assert result.returncode == 0, result.stderr
        seen = whoami(moss)
        assert (seen["uid"], seen["gid"]) == (4321, 4322)
    finally:
        assert moss.stop() == 0, moss.log()


@needs_root
def test_root_is_refused_unless_the_core_configuration_allows_it(moss_binary, workspace):
    root = group_file("NoContainer", "    runAs: {uid: 0, gid: 0}\n")
    moss, result = deployed(moss_binary, workspace, root)
    try:
        assert result.returncode != 0
        assert "would run as root" in result.stderr and "allowFunctionsToRunAsRoot: true" in result.stderr
        history = json.loads(moss.moss("deployments", "--json", check=True).stdout)
        assert [d["status"] for d in history] == ["Failure"]
        assert history[0]["errorDetails"][0]["detailedErrorCode"] == "FunctionRunAsRootNotAllowed"
    finally:
        assert moss.stop() == 0, moss.log()

    moss, result = deployed(moss_binary, workspace, root, "  allowFunctionsToRunAsRoot: true\n")
    try:
        assert result.returncode == 0, result.stderr
        assert (whoami(moss)["uid"], whoami(moss)["gid"]) == (0, 0)
    finally:
        assert moss.stop() == 0, moss.log()


@needs_root
def test_a_user_that_cannot_reach_its_code_or_python_is_refused_at_deployment(moss_binary, workspace):
    write_function(workspace, "whoami", WHOAMI)
    (workspace / "whoami").chmod(0o700)
    moss, result = deployed(moss_binary, workspace, group_file("NoContainer"))
    try:
        assert result.returncode != 0
        assert "cannot use its code" in result.stderr
        assert f"cannot read {workspace / 'whoami'} (mode 0700" in result.stderr, result.stderr
    finally:
        assert moss.stop() == 0, moss.log()

    (workspace / "whoami").chmod(0o755)
    # The pyenv Python running these tests lives under /root, which nobody can enter (named per runtime here).
    if not sys.executable.startswith("/root/"):
        return
    pythons = f"  pythonRuntimes: {{python3.11: {sys.executable}}}\n"
    moss, result = deployed(moss_binary, workspace, group_file("NoContainer"), pythons)
    try:
        assert result.returncode != 0
        assert "its Python" in result.stderr and "cannot enter /root (mode 0700" in result.stderr, result.stderr
    finally:
        assert moss.stop() == 0, moss.log()


@needs_root
def test_moss_not_running_as_root_refuses_a_run_as_it_cannot_switch_to(moss_binary, workspace):
    """The daemon itself runs as nobody here (setpriv), as a non-root installation would."""
    uid, gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    data = workspace / "data"
    data.mkdir()
    os.chown(data, uid, gid)
    write_function(workspace, "whoami", WHOAMI)
    (workspace / "moss.yaml").write_text(functions_config())
    (workspace / "group.yaml").write_text(group_file("NoContainer", "    runAs: {uid: 4321, gid: 4322}\n"))
    wrapper = workspace / "moss-as-nobody"
    wrapper.write_text(f"#!/bin/sh\nexec setpriv --reuid {uid} --regid {gid} --clear-groups {moss_binary} \"$@\"\n")
    wrapper.chmod(0o755)
    moss = start_moss(wrapper, data, "--config", str(workspace / "moss.yaml"))
    try:
        result = moss.moss("deploy", str(workspace / "group.yaml"))
        assert result.returncode != 0
        assert "not root, and cannot switch users" in result.stderr, result.stderr
        # Without runAs it runs as Moss's own user.
        (workspace / "group.yaml").write_text(group_file("NoContainer"))
        assert moss.moss("deploy", str(workspace / "group.yaml")).returncode == 0
        seen = whoami(moss)
        assert (seen["uid"], seen["gid"]) == (uid, gid)
    finally:
        assert moss.stop() == 0, moss.log()
