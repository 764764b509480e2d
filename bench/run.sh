#!/usr/bin/env bash
# The load benchmark in one command; see bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p parindex-api
if [ ! -x bench/.tools/bin/oha ]; then
  echo "installing oha (once) into bench/.tools"
  cargo install oha --locked --root bench/.tools -q
fi
exec python3 bench/bench.py "$@"
