#!/usr/bin/env bash
# Builds the release `moss` as it ships and prints the binary's path (build output goes to stderr);
# `release.sh --path` prints the path only, without building.
#
# Why these flags (docs/benchmarks.md, "Memory: where it goes"): an idle daemon's memory is mostly the code pages
# that start-up touched, and the kernel maps 64 KB around each page it faults in. So
# - the Swift runtime and Foundation are linked in (--static-swift-stdlib): no dynamic relocations of their data
#   at every start, and their code can be ordered with ours;
# - every function gets its own section (-function-sections for Swift, -ffunction-sections for C), so that
# - the linker places the functions a running broker uses first and together (scripts/build/moss.order, made by
#   scripts/build/order-file.sh) instead of spread over 35 MB of text.
# Its own build directory: other release products (benchmarks) build in .build with SwiftPM's defaults.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
scratch="${MOSS_RELEASE_BUILD_DIR:-$root/.build-release}"
if [ "${1:-}" = --path ]; then echo "$scratch/release/moss"; exit 0; fi
order="${MOSS_ORDER_FILE-$root/scripts/build/moss.order}"
# SwiftPM exports every symbol of an executable (so that tests can link it): 3.6 MB of dynamic symbol table that the
# loader reads through on every symbol it resolves for the shared libraries, at each start.
linker=(-Xlinker --no-export-dynamic)
if [ -n "$order" ]; then
    # A function named in the file but gone from the code is skipped: a stale order file costs memory, not a build.
    linker+=(-Xlinker "--symbol-ordering-file=$order" -Xlinker --no-warn-symbol-ordering)
fi
swift build -c release --product moss --package-path "$root" --scratch-path "$scratch" --static-swift-stdlib \
    -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections "${linker[@]}" >&2
echo "$scratch/release/moss"
