#!/usr/bin/env bash
# Starts the real binary the way a user (or docker-compose) does and checks what they meet:
# zero set-up on SQLite from an empty directory (or DATABASE_URL when given), readiness,
# Swagger UI, the first admin's login, and a clean exit on SIGTERM.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

build_server
work="$(mktemp -d)"
trap 'stop_server; rm -rf "$work"' EXIT

if [ -n "${DATABASE_URL:-}" ]; then env_args=(DATABASE_URL="$DATABASE_URL"); else env_args=(-u DATABASE_URL); fi
env_args+=(PARINDEX_ADMIN_PASSWORD=smoke-admin-password)
start_server "$work" "${env_args[@]}"
echo "ready on $BASE ($(if [ -n "${DATABASE_URL:-}" ]; then echo PostgreSQL; else echo "SQLite in an empty directory"; fi))"

if [ -z "${DATABASE_URL:-}" ]; then
  test -f "$work/data/parindex.db" || { echo "the SQLite file was not created" >&2; exit 1; }
fi
curl -fsS "$BASE/swagger-ui/" | grep -q swagger-ui
curl -fsS "$BASE/api-docs/openapi.json" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["openapi"]=="3.1.0"'
if curl -fsS "$BASE/api-docs/openapi.json" | python3 -c 'import json,sys; sys.exit(0 if "/api/v1/auth/login" in json.load(sys.stdin)["paths"] else 1)'; then
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
    -d '{"username":"admin","password":"smoke-admin-password"}' "$BASE/api/v1/auth/login")
  [ "$code" = 200 ] || { echo "admin login answered $code" >&2; exit 1; }
  echo "admin login: 200"
fi

kill -TERM "$SERVER_PID"
if wait "$SERVER_PID"; then echo "clean exit on SIGTERM"; else echo "non-zero exit after SIGTERM" >&2; cat "$work/server.log" >&2; exit 1; fi
SERVER_PID=""
grep -q '"request"\|request' "$work/server.log" || { echo "no request log lines" >&2; exit 1; }
