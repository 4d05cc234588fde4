#!/usr/bin/env bash
# The one test command: installs what a fresh Debian machine lacks, builds with CI's strictness,
# runs the Swift tests, then the Python integration tests against the built `moss` binary.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian packages: the MQTT peers for integration tests, SQLite headers for GRDB, zlib's for .tar.gz resources, openssl
# for certificate checks, ONNX's backend node tests and unzip for the inference conformance suites, OpenBLAS for the
# inference fast path,
# and Debian's python3 (/usr/bin/python3), which functions run on as an unprivileged user.
missing=()
for package in mosquitto mosquitto-clients libsqlite3-dev zlib1g-dev openssl unzip libonnx-testdata libopenblas0-pthread python3; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== installing ${missing[*]}"
    sudo_if_needed apt-get update -q
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# Python packages, only when missing or at another version.
if ! python3 - <<'PY'
import importlib.metadata as m, sys
try:
    ok = m.version("paho-mqtt") == "2.1.0" and m.version("pytest") and m.version("greengrasssdk") == "1.6.1" and m.version("botocore") and m.version("moto")
except m.PackageNotFoundError:
    ok = False
sys.exit(0 if ok else 1)
PY
then
    echo "== installing paho-mqtt 2.1.0, pytest, greengrasssdk 1.6.1, botocore and moto[server]"
    if ! python3 -m pip --version >/dev/null 2>&1; then
        sudo_if_needed apt-get update -q
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-pip
    fi
    # Debian's own python3 is "externally managed" (PEP 668); a pyenv or venv python is not.
    # botocore checks MossAWS's SigV4 fixture; moto_server plays S3, SageMaker and the IoT data plane in tests.
    python3 -m pip install -q "paho-mqtt==2.1.0" pytest "greengrasssdk==1.6.1" botocore "moto[server]" \
        || python3 -m pip install -q --break-system-packages "paho-mqtt==2.1.0" pytest "greengrasssdk==1.6.1" botocore "moto[server]"
fi

echo "== swift build"
swift build --build-tests -Xswiftc -warnings-as-errors --explicit-target-dependency-import-check error

echo "== swift test"
swift test --skip-build

echo "== integration tests"
set +e
python3 -m pytest -q IntegrationTests
status=$?
set -e
# pytest exits 5 when it collected no tests; that is not a failure of the suite.
if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then
    exit "$status"
fi
echo "== all tests passed"
