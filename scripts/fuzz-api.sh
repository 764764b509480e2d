#!/usr/bin/env bash
# Property-based testing of the API against its own OpenAPI document with schemathesis:
# every operation, as an admin and as a unit officer, checking for server errors, status
# codes, content types and response schemas. The server runs on a fresh SQLite file with
# the demo district loaded, so that generated ids hit real records too.
#
# FUZZ_EXAMPLES (default 20) bounds the generated cases per operation and phase.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

fuzz_api_env
VENV="$FUZZ_API_VENV"

build_server
work="$(mktemp -d)"
trap 'stop_server; rm -rf "$work"' EXIT

common=(-u DATABASE_URL PARINDEX_ADMIN_PASSWORD=fuzz-admin-password
  PARINDEX_JWT_SECRET=fuzz-secret-0123456789abcdef0123456789abcdef
  PARINDEX_ARGON2_MEMORY_KIB=1024 PARINDEX_ARGON2_ITERATIONS=1
  PARINDEX_LOGIN_MAX_FAILURES_PER_IP=1000000 PARINDEX_LOGIN_MAX_FAILURES_PER_USERNAME=10000
  RUST_LOG=warn)
(cd "$work" && env "${common[@]}" "$BIN" demo-data >/dev/null)
start_server "$work" "${common[@]}"

token() {
  curl -fsS -H 'content-type: application/json' -d "{\"username\":\"$1\",\"password\":\"$2\"}" \
    "$BASE/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance
total=0
failed=0
# The officer first: the admin pass may deactivate accounts or reset passwords.
for who in "vinhlong.vanphong demo-password-2023" "admin fuzz-admin-password"; do
  set -- $who
  tok="$(token "$1" "$2")"
  out="$ROOT/target/fuzz"
  mkdir -p "$out"
  report="$out/report-$1.json"
  echo "-- schemathesis as $1"
  set +e
  # Run from target/fuzz: schemathesis keeps a cache directory where it runs.
  # The spreadsheet bodies (CSV, XLSX uploads) come from scripts/fuzz_hooks.py.
  (cd "$out" && PYTHONPATH="$ROOT/scripts" SCHEMATHESIS_HOOKS=fuzz_hooks \
    "$VENV/bin/st" run "$BASE/api-docs/openapi.json" \
    --checks "$checks" \
    --header "Authorization: Bearer $tok" \
    --max-examples "${FUZZ_EXAMPLES:-20}" \
    --seed 20231229 \
    --generation-database none \
    --workers 1 \
    --no-color \
    --report json --report-json-path "$report" \
    > "$out/st-$1.log" 2>&1)
  rc=$?
  set -e
  tail -n 25 "$out/st-$1.log"
  cases=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["test_cases"]["generated"])' "$report" 2>/dev/null || echo 0)
  total=$((total + cases))
  if [ "$rc" != 0 ]; then failed=1; fi
done
echo "schemathesis generated $total test cases in all"
cp "$work/server.log" "$ROOT/target/fuzz/server.log"
if grep -q "status=5" "$work/server.log"; then
  echo "the server logged 5xx responses:" >&2
  grep "status=5" "$work/server.log" | head -20 >&2
  failed=1
fi
exit $failed
