# Shared by the scripts: build the server once and start it on a free port.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# require_packages PKG...: installs the Debian packages of the list that are not installed.
# Checked by package, never by a command: `soffice` exists as soon as any LibreOffice part
# is installed, yet converting a workbook needs Calc and a letter needs Writer. The package
# lists are refreshed once per clone before the first install (a new machine's may be old).
require_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} (apt-get)"
  local stamp="$ROOT/target/.apt-lists-updated"
  if [ ! -e "$stamp" ]; then
    apt-get update -qq
    mkdir -p "$ROOT/target" && touch "$stamp"
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  for pkg in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
      || { echo "FATAL: apt-get did not install $pkg" >&2; return 1; }
  done
}

# python_env DIR PIP-ARGS...: a virtualenv at DIR with PIP-ARGS installed; rebuilt when the
# arguments (or, for `-r FILE`, the file's contents) change. pip's cache stays in target/.
python_env() {
  local dir="$1"; shift
  local stamp arg
  stamp="$(for arg in "$@"; do echo "$arg"; if [ -f "$arg" ]; then cat "$arg"; fi; done | sha256sum | cut -d' ' -f1)"
  [ "$(cat "$dir/.parindex-stamp" 2>/dev/null)" = "$stamp" ] && return 0
  rm -rf "$dir"
  python3 -m venv "$dir"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$dir/bin/pip" install -q --cache-dir "$ROOT/target/pip-cache" "$@"
  "$dir/bin/pip" check >/dev/null
  echo "$stamp" >"$dir/.parindex-stamp"
}

# What each check installs, in one place: the scripts call these, and .ci/run calls them all
# at its start in the background (scripts/prefetch-tools.sh), so that the downloads overlap
# the compiler instead of following it.
FUZZ_API_VENV="$ROOT/.venv"
MOTO_VENV="$ROOT/target/moto-venv"
WORKBOOK_VENV="$ROOT/target/workbook-venv"
CLIENTS_VENV="$ROOT/target/clients-venv"
SMTP_VENV="$ROOT/target/smtp-venv"
SIGNATURES_VENV="$ROOT/target/sig-venv"
fuzz_api_env() { python_env "$FUZZ_API_VENV" 'schemathesis>=4,<5'; }
moto_env() { python_env "$MOTO_VENV" 'moto[server]==5.2.5'; }
workbook_env() { python_env "$WORKBOOK_VENV" openpyxl==3.1.5; }
smtp_env() { python_env "$SMTP_VENV" aiosmtpd==1.4.6 prometheus_client==0.21.1; }
signatures_env() { python_env "$SIGNATURES_VENV" pyhanko==0.38.0 cryptography==51.0.1; }
clients_python_env() { python_env "$CLIENTS_VENV" -r "$ROOT/clients/python/requirements.txt"; }
# node_modules DIR: `npm ci` in DIR. It starts from scratch each time (about 20 s), so it is
# skipped when node_modules was installed from this very package.json and
# package-lock.json (a fresh clone never has it).
node_modules() {
  local dir="$1" stamp
  stamp="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$dir/node_modules/.parindex-stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "$dir/node_modules is up to date with package-lock.json"
    return 0
  fi
  # --ignore-scripts: the only install script in the trees is @scarf/scarf's analytics ping.
  (cd "$dir" && npm ci --cache "$ROOT/target/npm-cache" --prefer-offline --ignore-scripts \
    --no-audit --no-fund --loglevel=error)
  echo "$stamp" >"$dir/node_modules/.parindex-stamp"
}
clients_node_modules() { node_modules "$ROOT/clients"; }
oidc_node_modules() { node_modules "$ROOT/scripts/oidc"; }
DOCUMENT_PACKAGES=(libreoffice-writer-nogui poppler-utils fonts-liberation)
WORKBOOK_PACKAGES=(libreoffice-calc-nogui poppler-utils fonts-liberation)
CLIENTS_PACKAGES=(openjdk-17-jre-headless)
SWAGGER_PACKAGES=(chromium)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# build_server [release]: builds the `parindex` binary, sets BIN.
build_server() {
  if [ "${1:-}" = "release" ]; then
    cargo build --release -q -p parindex-api --manifest-path "$ROOT/Cargo.toml"
    BIN="$ROOT/target/release/parindex"
  else
    cargo build -q -p parindex-api --manifest-path "$ROOT/Cargo.toml"
    BIN="$ROOT/target/debug/parindex"
  fi
}

# start_server WORKDIR [extra env assignments...]: starts $BIN in WORKDIR on a free port,
# logging to WORKDIR/server.log; sets PORT, BASE, SERVER_PID; waits until /health/ready.
start_server() {
  local workdir="$1"; shift
  PORT="$(free_port)"
  BASE="http://127.0.0.1:$PORT"
  (cd "$workdir" && exec env "$@" PARINDEX_ADDR="127.0.0.1:$PORT" "$BIN" >"$workdir/server.log" 2>&1) &
  SERVER_PID=$!
  for _ in $(seq 1 150); do
    if curl -fsS "$BASE/health/ready" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "server exited during start-up:" >&2; cat "$workdir/server.log" >&2; return 1
    fi
    sleep 0.2
  done
  echo "server did not become ready:" >&2; cat "$workdir/server.log" >&2; return 1
}

stop_server() {
  if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" || true
  fi
  SERVER_PID=""
}
