#!/usr/bin/env bash
# Regenerates the committed Swift protobuf code of MossInference (run once per proto change; the
# protoc plugin takes minutes to build, so CI never builds it).
# Needs: protoc (Debian protobuf-compiler) and protoc-gen-swift from swift-protobuf 1.39.0, e.g.
#   git clone https://github.com/apple/swift-protobuf.git /tmp/swift-protobuf-src && cd /tmp/swift-protobuf-src \
#     && git checkout 1.39.0 && swift build --product protoc-gen-swift
# proto/onnx.proto is onnx/onnx.proto from the onnx 1.23.2 wheel (Apache-2.0), unchanged.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
plugin="${PROTOC_GEN_SWIFT:-/tmp/swift-protobuf-src/.build/debug/protoc-gen-swift}"
out="$root/Sources/MossInference/Proto"
mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" -I"$here/proto" --swift_out="$out" --swift_opt=Visibility=Internal \
    tensorflow_subset.proto onnx.proto
echo "wrote $(ls "$out")"
