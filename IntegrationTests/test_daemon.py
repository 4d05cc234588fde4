"""The daemon's outside: ports.json, the ready line, `moss status`, signals, configuration errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess

import pytest

from conftest import run_moss, start_moss


def test_ports_json_names_the_bound_ports_and_one_ready_line_says_so(moss_daemon):
    assert moss_daemon.mqtt_port > 0
    assert moss_daemon.mqtts_port is None  # no certificates, no TLS listener
    assert moss_daemon.admin_socket == str(moss_daemon.data_dir / "moss.sock")
    with socket.create_connection(("127.0.0.1", moss_daemon.mqtt_port), timeout=5):
        pass

    ready = [line for line in moss_daemon.log().splitlines() if line.rstrip().endswith(" ready")]
    assert len(ready) == 1, moss_daemon.log()
    assert f"mqtt.port={moss_daemon.mqtt_port}" in ready[0]
    assert f"admin.socket={moss_daemon.admin_socket}" in ready[0]


def test_status_json(moss_daemon):
    result = moss_daemon.moss("status", "--json", check=True)
    status = json.loads(result.stdout)
    assert status["version"]
    assert status["uptimeSeconds"] >= 0
    assert status["dataDirectory"] == str(moss_daemon.data_dir)
    assert [(listener["name"], listener["port"], listener["tls"]) for listener in status["listeners"]] == [
        ("mqtt", moss_daemon.mqtt_port, False)
    ]
    assert status["clients"] == []
    assert set(status["messages"]) == {"received", "sent", "dropped"}


def test_status_table_is_readable(moss_daemon):
    output = moss_daemon.moss("status", check=True).stdout
    assert "Listeners" in output
    assert f"127.0.0.1:{moss_daemon.mqtt_port}" in output
    assert "Clients: 0 connected" in output


def test_status_finds_the_daemon_through_moss_data_dir(moss_daemon):
    env = dict(os.environ, MOSS_DATA_DIR=str(moss_daemon.data_dir))
    result = run_moss(moss_daemon.binary, "status", "--json", env=env, check=True)
    assert json.loads(result.stdout)["dataDirectory"] == str(moss_daemon.data_dir)


def test_status_fails_clearly_when_no_daemon_runs(moss_binary, tmp_path):
    result = run_moss(moss_binary, "status", "--data-dir", str(tmp_path))
    assert result.returncode != 0
    assert "Moss is not running" in result.stderr
    assert str(tmp_path / "moss.sock") in result.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_shuts_down_cleanly(moss_binary, tmp_path, sig):
    moss = start_moss(moss_binary, tmp_path / "data")
    assert moss.stop(sig) == 0, moss.log()
    assert not (moss.data_dir / "ports.json").exists()
    assert not (moss.data_dir / "moss.sock").exists()
    assert (moss.data_dir / "moss.sqlite").exists()
    # The same data directory starts again.
    again = start_moss(moss_binary, tmp_path / "data")
    assert again.stop() == 0, again.log()


def test_a_second_daemon_on_the_same_data_directory_is_refused(moss_daemon):
    result = subprocess.run(
        [str(moss_daemon.binary), "run", "--data-dir", str(moss_daemon.data_dir), "--mqtt-port", "0", "--mqtts-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "already running" in result.stderr
    # ...and the first one still answers.
    assert moss_daemon.moss("status", "--json", check=True).returncode == 0


def test_a_bad_configuration_file_is_refused_naming_the_key(moss_binary, tmp_path):
    config = tmp_path / "moss.yaml"
    config.write_text("mqtt:\n  port: 0\n  prot: 1883\n")
    data_dir = tmp_path / "data"
    result = run_moss(moss_binary, "run", "--config", str(config), "--data-dir", str(data_dir))
    assert result.returncode != 0
    assert f"{config}:3: mqtt.prot: unknown key" in result.stderr
    assert "allowed here: bind, port, tlsPort" in result.stderr
    assert not (data_dir / "ports.json").exists()


def test_a_bad_configuration_value_is_refused_with_what_is_allowed(moss_binary, tmp_path):
    config = tmp_path / "moss.yaml"
    config.write_text("mqtt:\n  limits:\n    maximumPacketSize: huge\n")
    result = run_moss(moss_binary, "run", "--config", str(config), "--data-dir", str(tmp_path / "data"))
    assert result.returncode != 0
    assert "mqtt.limits.maximumPacketSize: expected an integer in 64...268435455, got \"huge\"" in result.stderr


def test_flags_override_the_configuration_file(moss_binary, tmp_path):
    config = tmp_path / "moss.yaml"
    config.write_text(f"dataDirectory: {tmp_path / 'from-file'}\nmqtt:\n  port: 1\n  tlsPort: 2\n")
    moss = start_moss(moss_binary, tmp_path / "from-flag", "--config", str(config))
    try:
        assert moss.mqtt_port not in (0, 1)  # --mqtt-port 0 won over the file's 1
        assert not (tmp_path / "from-file").exists()
    finally:
        assert moss.stop() == 0, moss.log()


def test_certs_print_fingerprints_openssl_agrees_with(moss_binary, tmp_path):
    data_dir = tmp_path / "data"
    init = run_moss(moss_binary, "certs", "init", "--data-dir", str(data_dir), "--san", "localhost", "--san", "10.1.2.3", check=True)
    device = run_moss(moss_binary, "certs", "device", "sensor-1", "--data-dir", str(data_dir), check=True)
    certs = data_dir / "certs"
    for path in [certs / "ca.pem", certs / "server.pem", certs / "devices" / "sensor-1.pem"]:
        output = subprocess.run(
            ["openssl", "x509", "-in", str(path), "-noout", "-fingerprint", "-sha256"], capture_output=True, text=True, check=True
        ).stdout
        fingerprint = output.split("=", 1)[1].strip().replace(":", "").lower()
        assert fingerprint in init.stdout + device.stdout
    for key in [certs / "ca.key", certs / "server.key", certs / "devices" / "sensor-1.key"]:
        assert key.stat().st_mode & 0o777 == 0o600
    refused = run_moss(moss_binary, "certs", "device", "../evil", "--data-dir", str(data_dir))
    assert refused.returncode != 0 and "not a valid thing name" in refused.stderr


def test_tls_listener_opens_with_certificates_from_moss_certs(moss_tls_daemon):
    assert moss_tls_daemon.mqtts_port and moss_tls_daemon.mqtts_port != moss_tls_daemon.mqtt_port
    status = json.loads(moss_tls_daemon.moss("status", "--json", check=True).stdout)
    assert [listener["port"] for listener in status["listeners"] if listener["tls"]] == [moss_tls_daemon.mqtts_port]

    # A device certificate from `moss certs` completes the mutual-TLS handshake, checked against our CA.
    certificate, key = moss_tls_daemon.certificates.device("sensor-1")
    context = ssl.create_default_context(cafile=str(moss_tls_daemon.certificates.ca))
    context.load_cert_chain(str(certificate), str(key))
    with socket.create_connection(("127.0.0.1", moss_tls_daemon.mqtts_port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


def test_retained_messages_survive_a_restart(moss_binary, tmp_path):
    """The broker's write-behind reaches moss.sqlite through MossCore's adapter, and comes back at start."""
    moss = start_moss(moss_binary, tmp_path / "data")
    subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(moss.mqtt_port), "-t", "gateway/state", "-m", "kept", "-r", "-q", "1"],
        check=True,
        timeout=30,
    )
    assert json.loads(moss.moss("status", "--json", check=True).stdout)["retainedMessages"] == 1
    assert moss.stop() == 0, moss.log()

    again = start_moss(moss_binary, tmp_path / "data")
    try:
        assert json.loads(again.moss("status", "--json", check=True).stdout)["retainedMessages"] == 1
        received = subprocess.run(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(again.mqtt_port), "-t", "gateway/state", "-C", "1", "-W", "10"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert received.stdout.strip() == "kept", received.stderr
    finally:
        assert again.stop() == 0, again.log()
