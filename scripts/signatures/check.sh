#!/usr/bin/env bash
# PDF signature verification against files signed this very run by a real PDF signing
# library (pyHanko, with keys and certificates made by Python's `cryptography`): a fresh
# CA, leader, stranger, expired and self-signed certificates, new keys and times; the
# verifier must give every signature the verdict the manifest (and pyHanko's own
# validator) gives it. The committed set (domain/testdata/signatures) is checked by the
# unit tests every run; this one shows the verdicts do not depend on that one set.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

signatures_env
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$SIGNATURES_VENV/bin/python" "$ROOT/scripts/signatures/make_fixtures.py" "$work" >"$work.log" 2>&1 \
  || { cat "$work.log" >&2; exit 1; }
tail -n 1 "$work.log"
rm -f "$work.log"
# --workspace: the features the suite was built with (a lone -p would rebuild dependencies).
test=signatures::tests::a_fresh_set_gets_the_same_verdicts
PARINDEX_SIGNATURE_FIXTURES="$work" cargo test --workspace --lib \
  --manifest-path "$ROOT/Cargo.toml" -- "$test" >"$work/test.log" 2>&1 \
  || { cat "$work/test.log" >&2; exit 1; }
# The filter matched the test, and it passed (a renamed test would match nothing).
grep -qx "test $test ... ok" "$work/test.log" || { cat "$work/test.log" >&2; exit 1; }
echo "PDF signatures: the fresh set's verdicts agree with pyHanko's ($test)"
