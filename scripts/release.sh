#!/usr/bin/env bash
# Builds the release binary to ship: target/release/parindex without its debug sections,
# and target/release/parindex.debug beside it holding them (line tables and symbols). The
# binary names its debug file (.gnu_debuglink), so a panic's backtrace in production still
# gives file and line when the .debug file is shipped next to it (the Docker image does).
# Prints both sizes, and checks that a backtrace taken by the stripped binary names a
# source line. Usage: scripts/release.sh [--locked]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/lib.sh"
require_packages binutils

cargo build --release -q -p parindex-api --manifest-path "$ROOT/Cargo.toml" "$@"
BIN="$ROOT/target/release/parindex"
before=$(stat -c %s "$BIN")
objcopy --only-keep-debug --compress-debug-sections=zlib "$BIN" "$BIN.debug"
objcopy --strip-debug --remove-section=.gnu_debuglink --add-gnu-debuglink="$BIN.debug" "$BIN"
after=$(stat -c %s "$BIN")
debug=$(stat -c %s "$BIN.debug")
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
echo "release binary: $(mib "$after") (was $(mib "$before") with its debug sections); debug info beside it: $(mib "$debug") ($BIN.debug)"
if readelf -S "$BIN" | grep -F ' .debug_'; then
  echo "debug sections left in the binary" >&2
  exit 1
fi

# A backtrace from the stripped binary, symbolized from the .debug file beside it.
trace="$("$BIN" backtrace-check 2>&1)"
if ! grep -qE 'api/src/[a-z_/]+\.rs:[0-9]+' <<<"$trace"; then
  echo "the stripped binary's backtrace names no source line:" >&2
  echo "$trace" >&2
  exit 1
fi
echo "backtrace from the stripped binary names its source lines: $(grep -oE 'api/src/[a-z_/]+\.rs:[0-9]+' <<<"$trace" | head -n1)"
