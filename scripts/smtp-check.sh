#!/usr/bin/env bash
# Notifications by e-mail against a real SMTP server written by others (aiosmtpd, from
# PyPI), with the real binary on the demo district: delivered and parsed back, held while
# the server is down, not sent twice after a restart, one-click unsubscribe
# (scripts/smtp_check.py).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

smtp_env
build_server
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! "$SMTP_VENV/bin/python" "$ROOT/scripts/smtp_check.py" "$BIN" "$work"; then
  echo "server log:" >&2
  tail -n 50 "$work/server.log" >&2 || true
  exit 1
fi
