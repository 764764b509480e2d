#!/usr/bin/env bash
# Faults with servers of their own (scripts/faults.py): a private PostgreSQL cluster
# stopped and started under load, and a SQLite file on a small tmpfs filled mid-stream.
# Needs root (mount, runuser) and PostgreSQL's server binaries (postgresql-15 on Debian).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_packages util-linux
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  require_packages postgresql
fi
build_server
work="$(mktemp -d)"
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
python3 "$ROOT/scripts/faults.py" "$BIN" "$work" --disk-full --postgres
