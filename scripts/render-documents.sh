#!/usr/bin/env bash
# Renders every official paper of the demo district through the real server and real
# LibreOffice, the way a user printing them would: DOCX from the API, PDF from the API with
# PARINDEX_SOFFICE set, then each PDF's pages as PNG (pdftoppm) to look at. Checks that the
# PDFs carry the Vietnamese text intact (pdftotext) and the figures the API returns.
#
#   scripts/render-documents.sh [OUT_DIR]     (default: target/documents)
#
# Needs LibreOffice Writer and poppler (Debian: libreoffice-writer-nogui poppler-utils
# fonts-liberation); installs whichever of these packages is missing with apt-get.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

out="${1:-$ROOT/target/documents}"
require_packages "${DOCUMENT_PACKAGES[@]}"
SOFFICE="$(command -v soffice)"

build_server
work="$(mktemp -d)"
trap 'stop_server; rm -rf "$work"' EXIT
common=(-u DATABASE_URL PARINDEX_ADMIN_PASSWORD=render-admin-password
  PARINDEX_ARGON2_MEMORY_KIB=1024 PARINDEX_ARGON2_ITERATIONS=1 RUST_LOG=warn)
(cd "$work" && env "${common[@]}" "$BIN" demo-data >/dev/null)
start_server "$work" "${common[@]}" PARINDEX_SOFFICE="$SOFFICE"
rm -rf "$out" && mkdir -p "$out"
BASE="$BASE" OUT="$out" WORK="$work" python3 "$ROOT/scripts/render_documents.py"
echo "PNG pages in $out"
