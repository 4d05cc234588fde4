#!/usr/bin/env bash
# Installs the data MossInference's conformance tests read: ONNX's backend node tests.
# 1. Debian's libonnx-testdata (ONNX 1.12, /usr/share/libonnx-testdata/data/node) when apt can install it;
# 2. otherwise the onnx wheel's own generators (PyPI `onnx`, in a throwaway venv) write the suite to
#    .build/onnx-node-tests/node, where the tests also look.
# The tutorial's models are read from ../shared/seed-models and need nothing installed (unzip is used).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
debian=/usr/share/libonnx-testdata/data/node
if [ -f "$debian/test_add/model.onnx" ]; then
    echo "ONNX node tests: $debian"
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -q libonnx-testdata >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q libonnx-testdata >/dev/null 2>&1; }; then
        echo "ONNX node tests: $debian (libonnx-testdata)"
        exit 0
    fi
fi
generated="$root/.build/onnx-node-tests"
if [ -f "$generated/node/test_add/model.onnx" ]; then
    echo "ONNX node tests: $generated/node"
    exit 0
fi
venv="$(mktemp -d /tmp/moss-onnx-venv.XXXXXX)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
"$venv/bin/pip" install -q "onnx>=1.14"
"$venv/bin/python" "$root/scripts/inference/gen_onnx_node_tests.py" "$generated"
