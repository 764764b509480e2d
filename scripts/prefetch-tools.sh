#!/usr/bin/env bash
# Installs, by package, everything the checks after the tests use (Debian packages, the
# Python environments, the clients' node_modules), exactly as the checks themselves would
# (the same functions of scripts/lib.sh): .ci/run starts it in the background at its start
# so that the downloads overlap the compiler, and waits for it before the first check that
# needs them. Running a check without it installs the same things on demand.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
started=$SECONDS
# One apt-get run for all of them (apt takes a lock: two at once would fail).
require_packages binutils util-linux "${DOCUMENT_PACKAGES[@]}" "${WORKBOOK_PACKAGES[@]}" \
  "${CLIENTS_PACKAGES[@]}" "${SWAGGER_PACKAGES[@]}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  require_packages postgresql
fi
fuzz_api_env
moto_env
workbook_env
smtp_env
signatures_env
clients_python_env
clients_node_modules
oidc_node_modules
echo "tools installed in $((SECONDS - started)) s"
