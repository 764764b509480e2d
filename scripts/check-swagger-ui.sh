#!/usr/bin/env bash
# Opens /swagger-ui/ in headless Chromium, as a user would, and checks that the rendered
# page lists the API's operations (Swagger UI is vendored: nothing is downloaded).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

require_packages "${SWAGGER_PACKAGES[@]}"
CHROMIUM=/usr/bin/chromium

build_server
work="$(mktemp -d)"
trap 'stop_server; rm -rf "$work"' EXIT
start_server "$work" -u DATABASE_URL PARINDEX_ADMIN_PASSWORD=swagger-check-password

dom="$work/dom.html"
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/chrome" --virtual-time-budget=15000 --dump-dom "$BASE/swagger-ui/" \
  >"$dom" 2>"$work/chrome.log" || { cat "$work/chrome.log" >&2; exit 1; }

expected=$(curl -fsS "$BASE/api-docs/openapi.json" | python3 -c '
import json, sys
spec = json.load(sys.stdin)
print("\n".join(sorted(spec["paths"])))')
# Swagger UI renders each path inside an opblock; it inserts <wbr> between segments.
# (Stripped once into a file: `sed | grep -q` under pipefail fails when grep stops early.)
sed 's/<wbr>//g' "$dom" >"$dom.plain"
missing=0
total=0
while read -r path; do
  total=$((total + 1))
  if ! grep -qF "data-path=\"$path\"" "$dom.plain"; then
    echo "Swagger UI does not list $path" >&2
    missing=$((missing + 1))
  fi
done <<<"$expected"
# The upload: Swagger UI shows a file picker for a multipart property of `format: binary`
# and sends the fields in the schema's order (file before unit_id: the server takes both).
curl -fsS "$BASE/api-docs/openapi.json" | python3 -c '
import json, sys
spec = json.load(sys.stdin)
body = spec["paths"]["/api/v1/evidence-files"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
schema = spec["components"]["schemas"][body["$ref"].split("/")[-1]] if "$ref" in body else body
file, unit = schema["properties"]["file"], schema["properties"]["unit_id"]
assert file.get("type") == "string" and file.get("format") == "binary", file
assert {"file", "unit_id"} <= set(schema["required"]), schema
print("Swagger UI: POST /api/v1/evidence-files offers a file picker (multipart, format binary)")'
blocks=$(grep -o 'class="opblock opblock-' "$dom" | wc -l)
echo "Swagger UI rendered $blocks operations for $total paths; missing: $missing"
[ "$missing" = 0 ] && [ "$blocks" -gt 0 ]
