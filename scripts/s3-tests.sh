#!/usr/bin/env bash
# The evidence-file tests again, on the S3 store: a local S3-compatible server (moto, from
# PyPI: pure Python, no download outside the package registry, implements the S3 API
# object_store uses, multipart uploads included), a fresh bucket, every test server under
# its own prefix. Usage: scripts/s3-tests.sh [test name filters; default evidence::]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
moto_env
VENV="$MOTO_VENV"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
log="$(mktemp)"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto=$!
trap 'kill $moto 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
  sleep 0.2
done
bucket="parindex-ci-$$"
curl -fsS -X PUT "http://127.0.0.1:$port/$bucket" >/dev/null
echo "moto $("$VENV/bin/pip" show moto | sed -n 's/^Version: //p') on port $port, bucket $bucket"
export TEST_EVIDENCE_STORE=s3 TEST_S3_BUCKET="$bucket" TEST_S3_ENDPOINT="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=parindex-test AWS_SECRET_ACCESS_KEY=parindex-test AWS_REGION=us-east-1
cargo test -p parindex-tests --manifest-path "$ROOT/Cargo.toml" -- "${@:-evidence::}"
