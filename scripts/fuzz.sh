#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo fuzz, libFuzzer) of the spreadsheet and CSV importers, of
# scoring from raw inputs, and of PDF signature verification; the targets are in
# fuzz/fuzz_targets.
#
#   scripts/fuzz.sh [seconds per target] [target...]     (default: 60 s, every target)
#
# cargo-fuzz is installed once into target/tools. The working corpus grows in
# fuzz/corpus/<target> (not committed), seeded from fuzz/seeds/<target> (committed: real
# exports of the fixture framework). A crash stops the run with the input saved in
# fuzz/artifacts/<target>/ and a non-zero exit. Each target ends with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(xlsx_import csv_import score_inputs pdf_signatures)
fi

tools="$PWD/target/tools"
if [ ! -x "$tools/bin/cargo-fuzz" ]; then
  echo "installing cargo-fuzz into target/tools (once)"
  cargo install cargo-fuzz --locked --root "$tools" -q
fi
# cargo fuzz passes nightly -Z flags to rustc for coverage instrumentation; the stable
# toolchain accepts them with RUSTC_BOOTSTRAP. No sanitizer: the code under test is safe
# Rust (unsafe_code is forbidden), so what we look for is panics, hangs and memory use.
export RUSTC_BOOTSTRAP=1

cd fuzz
"$tools/bin/cargo-fuzz" build -s none
mkdir -p logs
status=0
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "seeds/$target"
  log="logs/$target.log"
  if "$tools/bin/cargo-fuzz" run -s none "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    outcome="no crash"
  else
    outcome="CRASH (see fuzz/$log and fuzz/artifacts/$target/)"
    status=1
  fi
  runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' | tail -1 || true)
  peak=$(grep -oE 'stat::peak_rss_mb:\s+[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
  printf '%-14s %8ss %12s executions  peak RSS %4s MB  %s\n' "$target" "$seconds" "${runs:-?}" "${peak:-?}" "$outcome"
done
exit $status
