#!/usr/bin/env bash
# Installs what the tests need, skipping what is already there:
#   redis-server (Debian package), moto's server (PyPI) for DynamoDB and SQS,
#   cargo-lambda (PyPI: prebuilt, with zig for the arm64 build; `cargo install`
#   would take ~18 minutes), schemathesis (PyPI), and the npm packages of the
#   CDK app, the browser test and the TypeScript SDK. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# `file` checks what the arm64 build produced (scripts/lambda-arm64.sh).
command -v file >/dev/null 2>&1 || need_apt+=(file)
# The browser test drives Debian's Chromium (nothing can download a browser here).
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} (apt)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c 'import moto, flask' >/dev/null 2>&1; then
  echo "setup: installing moto[server] (pip)"
  python3 -m pip install -q 'moto[server]>=5,<6'
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

if ! cargo lambda --version >/dev/null 2>&1; then
  echo "setup: installing cargo-lambda (pip)"
  python3 -m pip install -q cargo-lambda
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

# Property-based tests of the REST API against docs/openapi.json (scripts/api-fuzz.sh).
if ! command -v schemathesis >/dev/null 2>&1; then
  echo "setup: installing schemathesis (pip)"
  python3 -m pip install -q 'schemathesis>=4,<5'
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

for pkg in infra local/web-tests sdk/ts; do
  if [ -f "$pkg/package-lock.json" ]; then
    if [ ! -d "$pkg/node_modules" ] || [ "$pkg/package-lock.json" -nt "$pkg/node_modules/.package-lock.json" ]; then
      echo "setup: npm ci in $pkg/"
      npm ci --prefix "$pkg" --no-audit --no-fund --loglevel=error
    fi
  fi
done
