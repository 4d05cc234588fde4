"""The mutual-TLS listener with certificates from `moss certs`: paho (3.1.1 and 5.0) and mosquitto_sub/pub
over TLS, a client without a certificate or with one from another CA is refused, identity = certificate CN."""

from __future__ import annotations

import socket
import ssl

import pytest

from broker_helpers import (
    CONNACK,
    HOST,
    Clients,
    MosquittoSub,
    P,
    RawClient,
    connect_packet,
    make_device,
    mosquitto_pub,
    run_moss,
    start_configured,
    start_moss,
    status,
    stop_cleanly,
    tls_context,
    unique,
    wait_until,
)

VERSIONS = [pytest.param(4, id="v3.1.1"), pytest.param(5, id="v5")]


@pytest.fixture(scope="module")
def tls_broker(moss_binary, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("tls") / "data"
    run_moss(moss_binary, "certs", "init", "--data-dir", str(data_dir), check=True)
    devices = {thing: make_device(moss_binary, data_dir, thing) for thing in ("sensor-1", "sensor-2")}
    # A second, unrelated CA and a device certificate it signed.
    stranger_dir = tmp_path_factory.mktemp("stranger") / "data"
    run_moss(moss_binary, "certs", "init", "--data-dir", str(stranger_dir), check=True)
    stranger = make_device(moss_binary, stranger_dir, "sensor-1")  # same CN, wrong CA
    moss = start_moss(moss_binary, data_dir)
    moss.devices = devices
    moss.stranger = stranger
    moss.ca = data_dir / "certs" / "ca.pem"
    assert moss.mqtts_port, "no TLS listener although `moss certs init` ran"
    try:
        yield moss
    finally:
        stop_cleanly(moss)


@pytest.fixture
def clients(tls_broker):
    opened = Clients(tls_broker.mqtt_port, tls_broker.mqtts_port)
    try:
        yield opened
    finally:
        opened.close_all()


def device_tls(broker, thing: str = "sensor-1") -> tuple:
    cert, key = broker.devices[thing]
    return broker.ca, cert, key


@pytest.mark.parametrize("sub_version", [4, 5], ids=["sub-v3.1.1", "sub-v5"])
@pytest.mark.parametrize("pub_version", VERSIONS)
def test_mosquitto_sub_over_tls_receives_what_paho_publishes_over_tls(tls_broker, clients, pub_version, sub_version):
    topic = unique("tls")
    sub = MosquittoSub(tls_broker.mqtts_port, f"{topic}/#", count=1, version=sub_version, qos=1, tls=device_tls(tls_broker, "sensor-2"))
    clients.opened.append(sub)
    sub.wait_subscribed()
    paho = clients.paho(pub_version, port=tls_broker.mqtts_port, tls=device_tls(tls_broker))
    paho.publish(f"{topic}/reading", b"21.5", qos=1)
    assert sub.messages() == [f"{topic}/reading 21.5"]


@pytest.mark.parametrize("version", VERSIONS)
def test_messages_cross_between_plain_and_tls_listeners(tls_broker, clients, version):
    topic = unique("cross")
    over_tls = clients.paho(version, port=tls_broker.mqtts_port, tls=device_tls(tls_broker))
    over_tls.subscribe(f"{topic}/down", qos=1)
    plain = clients.paho(version)
    plain.subscribe(f"{topic}/up", qos=1)

    result = mosquitto_pub(tls_broker.mqtts_port, f"{topic}/up", "from tls", version=version, qos=1, tls=device_tls(tls_broker))
    assert result.returncode == 0, result.stderr
    assert plain.next_message().payload == b"from tls"
    result = mosquitto_pub(tls_broker.mqtt_port, f"{topic}/down", "from plain", version=version, qos=1)
    assert result.returncode == 0, result.stderr
    assert over_tls.next_message().payload == b"from plain"


def handshake_or_first_read_fails(port: int, context: ssl.SSLContext) -> bool:
    """True when the server refuses the TLS client: the handshake fails, or (TLS 1.3, where the server checks
    the client certificate after the client finished) the connection dies before any CONNACK."""
    raw = socket.create_connection((HOST, port), timeout=5)
    try:
        tls = context.wrap_socket(raw, server_hostname="localhost")
    except (ssl.SSLError, ConnectionError):
        return True
    try:
        tls.sendall(connect_packet(unique("nocert"), version=4))
        data = tls.recv(16)
        return data == b""
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    finally:
        tls.close()


def test_client_without_certificate_is_refused(tls_broker, clients):
    assert handshake_or_first_read_fails(tls_broker.mqtts_port, tls_context(tls_broker.ca))
    # And the same with the real tools.
    result = mosquitto_pub(tls_broker.mqtts_port, "t", "x", tls=(tls_broker.ca, None, None))
    assert result.returncode != 0
    assert paho_is_refused(clients, tls_broker, (tls_broker.ca, None, None))


def paho_is_refused(clients, broker, tls) -> bool:
    """paho either fails the TLS handshake in connect() or is disconnected before a successful CONNACK."""
    paho = clients.paho(5, connect=False, port=broker.mqtts_port, tls=tls)
    try:
        paho.client.connect(HOST, broker.mqtts_port)
    except (ssl.SSLError, OSError):
        return True
    paho.client.loop_start()
    wait_until(lambda: paho.disconnected.is_set() or not paho.connacks.empty(), "paho connects or is disconnected")
    if not paho.connacks.empty():
        code = paho.connacks.get()[0]
        return int(getattr(code, "value", code)) != 0
    return True


def test_certificate_from_another_ca_is_refused(tls_broker, clients):
    cert, key = tls_broker.stranger
    assert handshake_or_first_read_fails(tls_broker.mqtts_port, tls_context(tls_broker.ca, cert, key))
    result = mosquitto_pub(tls_broker.mqtts_port, "t", "x", tls=(tls_broker.ca, cert, key))
    assert result.returncode != 0
    assert paho_is_refused(clients, tls_broker, (tls_broker.ca, cert, key))


def test_a_valid_certificate_is_accepted_on_a_raw_socket(tls_broker, clients):
    client = clients.raw(5, port=tls_broker.mqtts_port, tls=tls_context(*device_tls(tls_broker)))
    assert client.connect().code == 0


def test_identity_is_the_certificate_cn_on_tls_and_the_client_id_on_plain(tls_broker, clients):
    tls_id, plain_id = unique("any-id"), unique("plain-id")
    clients.raw(4, port=tls_broker.mqtts_port, tls=tls_context(*device_tls(tls_broker, "sensor-2"))).connect(tls_id)
    clients.raw(4).connect(plain_id)

    def both_listed():
        listed = {c["clientID"]: c for c in status(tls_broker)["clients"]}
        return listed if tls_id in listed and plain_id in listed else None

    listed = wait_until(both_listed, "both clients appear in moss status")
    assert (listed[tls_id]["identity"], listed[tls_id]["listener"]) == ("sensor-2", "mqtts")
    assert (listed[plain_id]["identity"], listed[plain_id]["listener"]) == (plain_id, "mqtt")


def test_connack_over_tls_for_v5(tls_broker, clients):
    client = clients.raw(5, port=tls_broker.mqtts_port, tls=tls_context(*device_tls(tls_broker)))
    connack = client.connect()
    assert connack.properties.get(P.RECEIVE_MAXIMUM)


def test_refused_tls_handshakes_do_not_use_up_connection_slots(moss_binary, tmp_path):
    data_dir = tmp_path / "data"
    run_moss(moss_binary, "certs", "init", "--data-dir", str(data_dir), check=True)
    cert, key = make_device(moss_binary, data_dir, "sensor-1")
    ca = data_dir / "certs" / "ca.pem"
    moss = start_configured(moss_binary, data_dir, limits={"maximumConnections": 2})
    opened = Clients(moss.mqtt_port, moss.mqtts_port)
    try:
        for _ in range(5):
            assert handshake_or_first_read_fails(moss.mqtts_port, tls_context(ca))

        def two_devices_connect():
            attempt = []
            try:
                for _ in range(2):
                    client = RawClient(moss.mqtts_port, 5, tls_context(ca, cert, key))
                    attempt.append(client)
                    client.send(connect_packet(unique("slot"), version=5))
                    answer = client.recv(timeout=2)
                    if answer is None or answer.type != CONNACK or answer.code != 0:
                        raise ConnectionError(f"refused: {answer}")
            except (ssl.SSLError, OSError):
                for client in attempt:
                    client.close()
                return False
            opened.opened.extend(attempt)
            return True

        wait_until(two_devices_connect, "both connection slots are free again")
    finally:
        opened.close_all()
        stop_cleanly(moss)
