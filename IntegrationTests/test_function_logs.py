"""Logs (issue 5): a function's stdout, stderr and log records reach its log file through the daemon, each line
time-stamped, at the group's Lambda logger level and within its Space; the daemon's own log is `moss logs system`,
at the GreengrassSystem logger's level.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from broker_helpers import Clients
from conftest import start_moss, wait_until
from function_helpers import functions_config, write_function

pytest.importorskip("greengrasssdk", reason="pip install greengrasssdk==1.6.1 (scripts/test.sh does)")

CHATTY = '''\
import logging
import sys

def handler(event, context):
    logging.debug("a debug record")
    logging.info("an info record")
    logging.warning("a warning record %d", event["n"])
    print("printed %d" % event["n"])
    sys.stderr.write("to stderr %d\\n" % event["n"])
    for i in range(event.get("lines", 0)):
        logging.warning("filler %d %s", i, "x" * 100)
'''

GROUP = """\
core:
  thingName: gateway
devices:
  - thingName: sensor
functions:
  - id: chatty
    name: chatty
    runtime: python3.11
    handler: chatty.handler
    code: chatty
    timeout: 30
    isolationMode: NoContainer
subscriptions:
  - id: in
    source: device:sensor
    subject: in
    target: function:chatty
logging:
  - component: Lambda
    level: WARN
    space: 16
  - component: GreengrassSystem
    level: INFO
    space: 64
"""

STAMP = r"\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\]"


@pytest.fixture
def moss(moss_binary, workspace):
    write_function(workspace, "chatty", CHATTY)
    (workspace / "group.yaml").write_text(GROUP)
    (workspace / "moss.yaml").write_text(functions_config())
    moss = start_moss(moss_binary, workspace / "data", "--config", str(workspace / "moss.yaml"))
    result = moss.moss("deploy", str(workspace / "group.yaml"))
    if result.returncode != 0:
        moss.stop()
        pytest.fail(f"moss deploy failed:\n{result.stderr}")
    yield moss
    assert moss.stop() == 0, moss.log()


def log_of(moss, name: str) -> str:
    result = moss.moss("logs", name)
    return result.stdout if result.returncode == 0 else ""


def test_function_output_is_time_stamped_and_filtered_at_the_groups_level(moss):
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        sensor.publish("in", b'{"n": 7}', qos=1)
        text = wait_until(lambda: (t := log_of(moss, "chatty")) and "to stderr 7" in t and t, "the output is logged", timeout=30)
    finally:
        clients.close_all()
    lines = text.splitlines()
    assert all(re.match(STAMP, line) for line in lines), text
    assert any(re.match(STAMP + r"\[WARN\]-chatty\.py:\d+,a warning record 7$", line) for line in lines), text
    # The runtime logs print() at INFO and stderr at ERROR whatever the level; the handler's own records below WARN
    # are dropped.
    assert re.search(STAMP + r"\[INFO\]-chatty\.py:\d+,printed 7\n", text) and "[ERROR]-chatty.py:9,to stderr 7" in text
    assert "an info record" not in text and "a debug record" not in text


def test_a_functions_log_stays_within_its_space(moss):
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        sensor.publish("in", b'{"n": 1, "lines": 1000}', qos=1)
        logs = moss.data_dir / "logs" / "functions"
        wait_until(lambda: "filler 999" in log_of(moss, "chatty"), "the last line is logged", timeout=30)
    finally:
        clients.close_all()
    current, rotated = logs / "chatty.log", logs / "chatty.log.1"
    # Space 16 KB: the current file and the one rotated out together, never more.
    assert rotated.exists() and current.stat().st_size + rotated.stat().st_size <= 16 * 1024
    assert oct(current.stat().st_mode & 0o777) == "0o600"


def test_the_daemons_own_log_is_moss_logs_system(moss):
    text = log_of(moss, "system")
    assert "Deployment finished" in text and "ready" in text
    assert (moss.data_dir / "logs" / "system.log").stat().st_mode & 0o777 == 0o600
