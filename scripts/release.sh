#!/usr/bin/env bash
# Builds the release binary to ship: target/dist/parindex without its debug sections, and
# target/dist/parindex.debug beside it holding them (line tables and symbols); cargo's own
# target/release/parindex is left as built. The
# binary names its debug file (.gnu_debuglink), so a panic's backtrace in production still
# gives file and line when the .debug file is shipped next to it (the Docker image does).
# Prints both sizes, and checks that a backtrace taken by the stripped binary names a
# source line. Usage: scripts/release.sh [--locked]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
. "$ROOT/scripts/lib.sh"
require_packages binutils

cargo build --release -q -p parindex-api --manifest-path "$ROOT/Cargo.toml" "$@"
BUILT="$ROOT/target/release/parindex"
mkdir -p "$ROOT/target/dist"
BIN="$ROOT/target/dist/parindex"
rm -f "$BIN" "$BIN.debug"
before=$(stat -c %s "$BUILT")
objcopy --only-keep-debug --compress-debug-sections=zlib "$BUILT" "$BIN.debug"
# The debug link names the file only: it is looked for beside the binary.
(cd "$ROOT/target/dist" && objcopy --strip-debug --remove-section=.debug_gdb_scripts \
  --add-gnu-debuglink=parindex.debug "$BUILT" parindex)
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
