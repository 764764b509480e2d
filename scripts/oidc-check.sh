#!/usr/bin/env bash
# Sign-in through a real OpenID Connect provider written by others (oidc-provider, from
# npm) with the real binary: tokens mapped to accounts, a wrong audience and an unknown
# account refused, the provider's key rotated, passwords turned off (scripts/oidc/check.mjs).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

oidc_node_modules
build_server
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! node "$ROOT/scripts/oidc/check.mjs" "$BIN" "$work" 2>"$work/server.log"; then
  echo "server log:" >&2
  tail -n 50 "$work/server.log" >&2 || true
  exit 1
fi
