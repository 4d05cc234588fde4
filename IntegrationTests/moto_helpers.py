"""moto_server on a free loopback port, for the tests that need S3 or SageMaker (resources, the tutorial group).

Started and stopped by the test that needs it; its request log (werkzeug's, one line per request) lets a test count
what S3 actually served.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import wait_until

REGION = "us-east-1"
KEY_ID, SECRET = "AKIDMOSSTEST", "moss/test+secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Moto:
    """moto_server on a free loopback port; its log counts the requests it served."""

    def __init__(self, directory: Path, environment: dict | None = None):
        self.port = free_port()
        self.log_path = directory / f"moto-{self.port}.log"
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            ["moto_server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(environment or {})},
        )
        log.close()

        def answers():
            if self.process.poll() is not None:
                pytest.fail(f"moto_server exited:\n{self.log_path.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                return False

        try:
            wait_until(answers, "moto_server answers", timeout=60)
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str, key: str = KEY_ID, secret: str = SECRET):
        boto3 = pytest.importorskip("boto3", reason="pip install 'moto[server]' (scripts/test.sh does)")
        return boto3.client(
            service, endpoint_url=self.url, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret
        )

    def gets(self, bucket: str, key: str, status: int) -> int:
        """How many GETs of the object moto answered with `status`."""
        pattern = re.compile(rf'"GET /{re.escape(bucket)}/{re.escape(key)} HTTP/1\.1" {status} ')
        return len(pattern.findall(self.log_path.read_text()))

    def requests_for(self, bucket: str) -> int:
        return len(re.findall(rf'"[A-Z]+ /{re.escape(bucket)}[/ ]', self.log_path.read_text()))

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def use_test_credentials(monkeypatch, directory: Path):
    """The daemon reads its AWS credentials from the environment it inherits (docs/aws.md): the test keys, and no
    credentials or config files from the machine."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(directory / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(directory / "no-config"))
