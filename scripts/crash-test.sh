#!/usr/bin/env bash
# Crash safety: a stream of writes, SIGKILL mid-stream, restart, check every acknowledged
# write is there and nothing is half-written. SQLite always; PostgreSQL too when
# CRASH_DATABASE_URL names an empty PostgreSQL database.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

build_server
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "-- SQLite (WAL, synchronous=FULL)"
env -u DATABASE_URL python3 "$ROOT/scripts/crash_test.py" "$BIN" "$work" --rounds "${CRASH_ROUNDS:-3}"
echo "-- webhooks on SQLite: SIGKILL between commit and delivery"
env -u DATABASE_URL python3 "$ROOT/scripts/webhook_crash_test.py" "$BIN" "$work"

if [ -n "${CRASH_DATABASE_URL:-}" ]; then
  echo "-- PostgreSQL"
  pg_work="$(mktemp -d)"
  DATABASE_URL="$CRASH_DATABASE_URL" python3 "$ROOT/scripts/crash_test.py" "$BIN" "$pg_work" --rounds "${CRASH_ROUNDS:-3}"
  echo "-- webhooks on PostgreSQL: SIGKILL between commit and delivery"
  DATABASE_URL="$CRASH_DATABASE_URL" python3 "$ROOT/scripts/webhook_crash_test.py" "$BIN" "$pg_work"
  rm -rf "$pg_work"
fi
