#!/usr/bin/env bash
# The workbooks' score formulas against the service, through real LibreOffice: a new
# commune of the demo district fills its self-assessment workbook (every scoring method,
# fractional results, a relative-to-best figure scored against its siblings' best), the
# service stores and scores it, LibreOffice recalculates the same workbook, and every
# score cell must equal the service's score; then the council's workbook the same way.
# Leaves each workbook as PDF and PNG pages in target/workbooks to look at.
#
#   scripts/check-workbook-formulas.sh [OUT_DIR]
#
# Needs LibreOffice Calc and poppler (Debian: libreoffice-calc-nogui poppler-utils
# fonts-liberation); installs whichever of these packages is missing with apt-get.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

out="${1:-$ROOT/target/workbooks}"
require_packages "${WORKBOOK_PACKAGES[@]}"
# openpyxl edits the workbook as a person would in Excel (cells typed, formulas kept).
workbook_env
VENV="$WORKBOOK_VENV"

build_server
work="$(mktemp -d)"
trap 'stop_server; rm -rf "$work"' EXIT
common=(-u DATABASE_URL PARINDEX_ADMIN_PASSWORD=workbook-admin-password
  PARINDEX_ARGON2_MEMORY_KIB=1024 PARINDEX_ARGON2_ITERATIONS=1 RUST_LOG=warn)
(cd "$work" && env "${common[@]}" "$BIN" demo-data >/dev/null)
start_server "$work" "${common[@]}"
rm -rf "$out" && mkdir -p "$out"
BASE="$BASE" OUT="$out" ADMIN_PASSWORD=workbook-admin-password WORK="$work" \
  "$VENV/bin/python" "$ROOT/scripts/check_workbook_formulas.py"
