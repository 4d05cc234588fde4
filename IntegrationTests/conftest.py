"""Fixtures that run the built `moss` binary on loopback, each in its own data directory.

`moss_daemon` starts `moss run --data-dir <tmp> --mqtt-port 0 --mqtts-port 0`, waits (by polling, never by
a fixed sleep) until ports.json appears, and yields a `MossProcess` with the real ports. `moss_tls_daemon`
does the same after `moss certs init` and `moss certs device`, so the TLS listener is up and a device
certificate is ready. Both stop the daemon at teardown and fail the test if it did not exit cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 30.0
SHUTDOWN_TIMEOUT = 15.0


def wait_until(condition: Callable[[], object], what: str, timeout: float = 10.0, interval: float = 0.02):
    """Polls `condition` until it returns something truthy, and returns that; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting until {what}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def moss_binary() -> Path:
    """The debug `moss` binary that `swift build` made (scripts/test.sh builds it before pytest runs)."""
    override = os.environ.get("MOSS_BINARY")
    if override:
        return Path(override)
    bin_path = subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=REPOSITORY, check=True, capture_output=True, text=True
    ).stdout.strip()
    binary = Path(bin_path) / "moss"
    if not binary.exists():
        pytest.fail(f"{binary} does not exist; run `swift build` first (scripts/test.sh does)")
    return binary


@dataclass
class Certificates:
    """Files written by `moss certs` under DATA_DIR/certs."""

    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    def device(self, thing: str) -> tuple[Path, Path]:
        """(certificate, private key) of a device certificate made by `moss certs device`."""
        return self.directory / "devices" / f"{thing}.pem", self.directory / "devices" / f"{thing}.key"


@dataclass
class MossProcess:
    binary: Path
    data_dir: Path
    process: subprocess.Popen
    log_path: Path
    ports: dict = field(default_factory=dict)

    @property
    def mqtt_port(self) -> int:
        return self.ports["mqtt"]

    @property
    def mqtts_port(self) -> int | None:
        return self.ports.get("mqtts")

    @property
    def admin_socket(self) -> str:
        return self.ports["admin"]

    @property
    def certificates(self) -> Certificates:
        return Certificates(self.data_dir / "certs")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def moss(self, *arguments: str, check: bool = False) -> subprocess.CompletedProcess:
        """Runs a client command (`status`, ...) against this daemon."""
        return run_moss(self.binary, *arguments, "--data-dir", str(self.data_dir), check=check)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Sends `sig` and waits for the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"moss did not stop within {SHUTDOWN_TIMEOUT}s of signal {sig}; log:\n{self.log()}")


def run_moss(binary: Path, *arguments: str, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(binary), *arguments], capture_output=True, text=True, timeout=60, env=env)
    if check and result.returncode != 0:
        pytest.fail(f"moss {' '.join(arguments)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def start_moss(binary: Path, data_dir: Path, *extra: str) -> MossProcess:
    """Starts the daemon on free ports and waits until its ports.json exists."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}.log"
    log_file = open(log_path, "w")
    process = subprocess.Popen(
        [str(binary), "run", "--data-dir", str(data_dir), "--mqtt-port", "0", "--mqtts-port", "0", *extra],
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    log_file.close()
    moss = MossProcess(binary=binary, data_dir=data_dir, process=process, log_path=log_path)
    ports_file = data_dir / "ports.json"

    def started():
        if process.poll() is not None:
            pytest.fail(f"moss exited with {process.returncode} before it was ready; log:\n{moss.log()}")
        return ports_file.exists()

    try:
        wait_until(started, "moss writes ports.json", timeout=STARTUP_TIMEOUT)
    except BaseException:
        # Never leave a daemon behind a failed start.
        if process.poll() is None:
            process.kill()
            process.wait()
        raise
    moss.ports = json.loads(ports_file.read_text())
    return moss


def _run_daemon(binary: Path, data_dir: Path):
    moss = start_moss(binary, data_dir)
    try:
        yield moss
    finally:
        if moss.process.poll() is None:
            status = moss.stop()
            assert status == 0, f"moss exited with {status} on SIGTERM; log:\n{moss.log()}"


@pytest.fixture
def moss_daemon(moss_binary: Path, tmp_path: Path):
    """A running daemon with plain MQTT only, on a free port."""
    yield from _run_daemon(moss_binary, tmp_path / "data")


@pytest.fixture
def moss_tls_daemon(moss_binary: Path, tmp_path: Path):
    """A running daemon with the mutual-TLS listener, certificates made by `moss certs`, and a device
    certificate for the thing `sensor-1` (see `MossProcess.certificates`)."""
    data_dir = tmp_path / "data"
    run_moss(moss_binary, "certs", "init", "--data-dir", str(data_dir), check=True)
    run_moss(moss_binary, "certs", "device", "sensor-1", "--data-dir", str(data_dir), check=True)
    yield from _run_daemon(moss_binary, data_dir)


@pytest.fixture
def workspace():
    """A directory every user can enter and read (pytest's tmp_path sits under /tmp/pytest-of-root, mode 0700), for
    what functions running as an unprivileged user must reach: their code, and the data directory that holds the
    runtime. Removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="moss-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)
