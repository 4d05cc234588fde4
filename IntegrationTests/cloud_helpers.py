"""The cloud played on loopback by real programs: mosquitto as AWS IoT's MQTT endpoint (mutual TLS, certificates made
at test time by `moss certs` in a directory of the cloud's own), moto_server as the IoT data plane, and a gate in front
of moto that the tests can close to take the data plane offline.

AWS IoT publishes `/update/accepted` and `/delete/accepted` for every change of a shadow; mosquitto has no shadow
service, so `Cloud.update_shadow` / `Cloud.delete_shadow` change moto's shadow and then publish exactly what AWS
IoT publishes for it (shadow-spec.md §2.2, §2.3).
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from broker_helpers import PahoClient
from conftest import MossProcess, run_moss, start_moss, wait_until

HOST = "127.0.0.1"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


class Mosquitto:
    """mosquitto with a mutual-TLS listener (the cloud endpoint Moss connects to) and a plain one for the tests'
    own clients, with persistence so a stop and start keep persistent sessions, as AWS IoT keeps them."""

    def __init__(self, directory: Path, ca: Path, certificate: Path, key: Path):
        self.directory = directory
        self.tls_port = free_port()
        self.plain_port = free_port()
        self.config = directory / "mosquitto.conf"
        self.log_path = directory / "mosquitto.log"
        (directory / "db").mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            f"""\
per_listener_settings false
user {getpass.getuser()}
allow_anonymous true
persistence true
persistence_location {directory / "db"}/
autosave_interval 1
log_dest file {self.log_path}
log_type all
max_queued_messages 100000
listener {self.plain_port} {HOST}
listener {self.tls_port} {HOST}
cafile {ca}
certfile {certificate}
keyfile {key}
require_certificate true
use_identity_as_username true
"""
        )
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["mosquitto", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_until(lambda: self.process.poll() is not None or (port_open(self.plain_port) and port_open(self.tls_port)),
                   "mosquitto listens", timeout=15)
        if self.process.poll() is not None:
            pytest.fail(f"mosquitto exited with {self.process.returncode}:\n{self.log()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: mosquitto saves its persistence file
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def client(self, client_id: str | None = None, clean: bool = True) -> PahoClient:
        """A test client on the plain listener (the cloud-side application)."""
        client = PahoClient(self.plain_port, client_id=client_id, version=4, clean=clean)
        client.connect()
        return client


class Gate:
    """A TCP forwarder on a free port; while closed it accepts and drops every connection (the network is down)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.stopped = False
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection((HOST, self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close_gate(self) -> None:
        """Drops every open connection and refuses new ones."""
        self.open = False
        with self.lock:
            for connection in self.connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                    connection.close()
                except OSError:
                    pass
            self.connections = []

    def open_gate(self) -> None:
        self.open = True

    def stop(self) -> None:
        self.stopped = True
        self.close_gate()
        self.listener.close()


class TLSDataPlane:
    """An HTTPS endpoint of the tests' own in front of moto, as AWS IoT serves the data plane on 8443: it requires a
    client certificate signed by the cloud's CA, records each one's subject, and forwards the request to moto."""

    def __init__(self, moto_port: int, ca: Path, certificate: Path, key: Path):
        import http.client
        import http.server
        import ssl

        self.clients: list[str] = []
        self.signed = False
        plane = self

        class Forward(http.server.BaseHTTPRequestHandler):
            def _forward(self):
                subject = dict(pair[0] for pair in self.connection.getpeercert()["subject"])
                plane.clients.append(subject.get("commonName", ""))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream = http.client.HTTPConnection(HOST, moto_port, timeout=10)
                # moto routes a request by the service in its SigV4 credential scope (it checks no signature here); the
                # request Moss sent is unsigned, as AWS IoT's mutual-TLS endpoint takes it, so name the service for moto.
                headers = {name: value for name, value in self.headers.items() if name.lower() != "authorization"}
                headers["Authorization"] = (
                    f"AWS4-HMAC-SHA256 Credential=mtls/20260101/{REGION}/iotdata/aws4_request, SignedHeaders=host, Signature=0"
                )
                if "authorization" in (name.lower() for name in self.headers.keys()):
                    plane.signed = True
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                response = upstream.getresponse()
                payload = response.read()
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                upstream.close()

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *arguments):
                pass

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(certificate), str(key))
        context.load_verify_locations(str(ca))
        context.verify_mode = ssl.CERT_REQUIRED
        self.server = http.server.ThreadingHTTPServer((HOST, 0), Forward)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Moto:
    """moto_server as AWS IoT's data plane (and the `iot` control plane that registers things)."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.log_path = directory / "moto.log"
        log = open(self.log_path, "w")
        self.process = subprocess.Popen(["moto_server", "-H", HOST, "-p", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(lambda: self.process.poll() is not None or port_open(self.port), "moto_server listens", timeout=60)
        if self.process.poll() is not None:
            pytest.fail(f"moto_server exited:\n{self.log_path.read_text()}")
        import boto3

        session = boto3.session.Session(aws_access_key_id="AKIDMOSSTEST", aws_secret_access_key="moss-test-secret", region_name=REGION)
        self.iot = session.client("iot", endpoint_url=f"http://{HOST}:{self.port}")
        self.data = session.client("iot-data", endpoint_url=f"http://{HOST}:{self.port}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def create_thing(self, thing: str) -> None:
        self.iot.create_thing(thingName=thing)

    def shadow(self, thing: str, name: str | None = None) -> dict | None:
        """The cloud's shadow document, or None when there is none."""
        try:
            arguments = {"thingName": thing} | ({"shadowName": name} if name else {})
            return json.loads(self.data.get_thing_shadow(**arguments)["payload"].read())
        except self.data.exceptions.ResourceNotFoundException:
            return None


@dataclass
class Cloud:
    """Everything the cloud is made of in a test, and a Moss configured to use it."""

    directory: Path
    mosquitto: Mosquitto
    moto: Moto
    gate: Gate
    certificate: Path
    key: Path
    ca: Path
    clients: list = field(default_factory=list)

    def config(self, **overrides) -> str:
        """A core configuration whose cloud is this one (overrides: keys of the `cloud` section)."""
        settings = {
            "endpoint": HOST,
            "port": self.mosquitto.tls_port,
            "certificate": str(self.certificate),
            "privateKey": str(self.key),
            "caCertificate": str(self.ca),
            "keepAliveSeconds": 5,
            "maximumReconnectDelaySeconds": 2,
        } | overrides
        spooler = settings.pop("spooler", None)
        data_plane = settings.pop("dataPlane", {"authentication": "sigv4", "endpoint": f"http://{HOST}:{self.gate.port}"})
        lines = ["cloud:"] + [f"  {key}: {value}" for key, value in settings.items()]
        if spooler:
            lines += ["  spooler:"] + [f"    {key}: {value}" for key, value in spooler.items()]
        lines += ["  dataPlane:"] + [f"    {key}: {value}" for key, value in data_plane.items()]
        return "\n".join(lines) + "\n"

    def start_moss(self, binary: Path, data_dir: Path, **overrides) -> MossProcess:
        config = data_dir.parent / f"{data_dir.name}-moss.yaml"
        config.write_text(self.config(**overrides))
        return start_moss(binary, data_dir, "--config", str(config))

    def app(self, client_id: str | None = None, clean: bool = True) -> PahoClient:
        client = self.mosquitto.client(client_id, clean)
        self.clients.append(client)
        return client

    # AWS IoT's side effects of a shadow change, which mosquitto cannot produce itself.

    def update_shadow(self, thing: str, state: dict, name: str | None = None) -> dict:
        """UpdateThingShadow at moto, then `/update/accepted` as AWS IoT publishes it; returns the accepted document."""
        arguments = {"thingName": thing, "payload": json.dumps({"state": state}).encode()} | ({"shadowName": name} if name else {})
        accepted = json.loads(self.moto.data.update_thing_shadow(**arguments)["payload"].read())
        now = int(time.time())
        document = {"state": state, "metadata": _metadata(state, now), "version": accepted["version"], "timestamp": now}
        self.publish(f"{_prefix(thing, name)}/update/accepted", document)
        return document

    def delete_shadow(self, thing: str, name: str | None = None) -> None:
        """DeleteThingShadow at moto, then `/delete/accepted` with the deleted version, as AWS IoT publishes it."""
        version = (self.moto.shadow(thing, name) or {}).get("version")
        arguments = {"thingName": thing} | ({"shadowName": name} if name else {})
        self.moto.data.delete_thing_shadow(**arguments)
        self.publish(f"{_prefix(thing, name)}/delete/accepted", {"version": version, "timestamp": int(time.time())})

    def publish(self, topic: str, document: dict) -> None:
        publisher = self.app()
        publisher.publish(topic, json.dumps(document).encode(), qos=1)
        publisher.close()
        self.clients.remove(publisher)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.gate.stop()
        self.mosquitto.stop()
        self.moto.stop()


def _prefix(thing: str, name: str | None) -> str:
    return f"$aws/things/{thing}/shadow" + (f"/name/{name}" if name else "")


def _metadata(value, timestamp: int):
    """The metadata mirror AWS IoT puts in an accepted document: every leaf becomes {"timestamp": T}."""
    if isinstance(value, dict):
        return {key: _metadata(member, timestamp) for key, member in value.items()}
    if isinstance(value, list):
        return [_metadata(member, timestamp) for member in value]
    return {"timestamp": timestamp}


@pytest.fixture
def cloud(moss_binary: Path, tmp_path: Path, monkeypatch):
    """mosquitto (TLS, client certificates from `moss certs`), moto_server behind a gate, and AWS credentials in the
    environment Moss inherits; all stopped at teardown."""
    directory = tmp_path / "cloud"
    run_moss(moss_binary, "certs", "init", "--data-dir", str(directory), check=True)
    run_moss(moss_binary, "certs", "device", "gateway", "--data-dir", str(directory), check=True)
    certs = directory / "certs"
    mosquitto = Mosquitto(directory, certs / "ca.pem", certs / "server.pem", certs / "server.key")
    mosquitto.start()
    moto = None
    gate = None
    try:
        moto = Moto(directory)
        gate = Gate(moto.port)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDMOSSTEST")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moss-test-secret")
        monkeypatch.setenv("AWS_REGION", REGION)
        cloud = Cloud(directory, mosquitto, moto, gate, certs / "devices" / "gateway.pem", certs / "devices" / "gateway.key", certs / "ca.pem")
        yield cloud
        cloud.close()
    finally:
        mosquitto.stop()
        if gate:
            gate.stop()
        if moto:
            moto.stop()


def moss_status(moss: MossProcess) -> dict:
    result = moss.moss("status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def cloud_status(moss: MossProcess) -> dict:
    return moss_status(moss)["cloud"]


def deploy(moss: MossProcess, path: Path, text: str) -> dict:
    path.write_text(text)
    result = moss.moss("deploy", str(path), "--json")
    assert result.returncode == 0, f"deploy failed:\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)
