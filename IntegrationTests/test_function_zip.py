"""Zipped function code (issue 5): a group's function may name the .zip AWS Lambda exported; Moss unpacks it once per
content with the resources' safe unpacker, runs it, switches to a changed zip on redeploy and removes the old copy,
and refuses a zip that would write outside itself, leaving the running group as it was.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from broker_helpers import Clients
from conftest import start_moss
from function_helpers import SDK, functions_config

pytest.importorskip("greengrasssdk", reason="pip install greengrasssdk==1.6.1 (scripts/test.sh does)")

HANDLER = '''\
import json
import greengrasssdk

iot = greengrasssdk.client("iot-data")

def handler(event, context):
    iot.publish(topic="out/answer", payload=json.dumps({"version": VERSION}))
'''

GROUP = """\
core:
  thingName: gateway
devices:
  - thingName: sensor
functions:
  - id: zipped
    name: zipped
    runtime: python3.11
    handler: zipped.handler
    code: {code}
    timeout: 20
    isolationMode: NoContainer
subscriptions:
  - id: in
    source: device:sensor
    subject: in
    target: function:zipped
  - id: out
    source: function:zipped
    subject: out/#
    target: device:sensor
"""


def lambda_zip(path: Path, version: int, extra: dict[str, bytes] | None = None) -> Path:
    """A package as Lambda exported them: the handler module and greengrasssdk at the top level."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zipped.py", HANDLER + f"VERSION = {version}\n")
        for file in SDK.rglob("*.py"):
            archive.write(file, "greengrasssdk/" + str(file.relative_to(SDK)))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())
    path.chmod(0o644)
    return path


def ask(moss) -> int:
    clients = Clients(moss.mqtt_port)
    try:
        sensor = clients.connected(5, client_id="sensor")
        sensor.subscribe(("out/#", 1))
        sensor.publish("in", b"{}", qos=1)
        return json.loads(sensor.expect_publish(topic="out/answer", timeout=30).payload)["version"]
    finally:
        clients.close_all()


def test_zipped_code_is_unpacked_run_replaced_and_refused_when_unsafe(moss_binary, workspace):
    (workspace / "moss.yaml").write_text(functions_config())
    moss = start_moss(moss_binary, workspace / "data", "--config", str(workspace / "moss.yaml"))
    unpacked = workspace / "data" / "functions"
    try:
        (workspace / "group.yaml").write_text(GROUP.format(code=lambda_zip(workspace / "v1.zip", 1)))
        result = moss.moss("deploy", str(workspace / "group.yaml"))
        assert result.returncode == 0, result.stderr
        assert ask(moss) == 1
        [first] = list(unpacked.iterdir())

        (workspace / "group.yaml").write_text(GROUP.format(code=lambda_zip(workspace / "v2.zip", 2)))
        assert moss.moss("deploy", str(workspace / "group.yaml")).returncode == 0
        assert ask(moss) == 2
        [second] = list(unpacked.iterdir())
        assert second != first  # one copy per content; the old one is gone

        (workspace / "group.yaml").write_text(
            GROUP.format(code=lambda_zip(workspace / "evil.zip", 3, {"../../escaped.py": b"print('out')\n"}))
        )
        refused = moss.moss("deploy", str(workspace / "group.yaml"))
        assert refused.returncode != 0 and "evil.zip" in refused.stderr, refused.stderr
        assert not (workspace / "escaped.py").exists() and not (workspace / "data" / "escaped.py").exists()
        # Nothing changed: the second version still answers, and no partial copy is left.
        assert ask(moss) == 2
        assert list(unpacked.iterdir()) == [second]
    finally:
        assert moss.stop() == 0, moss.log()
