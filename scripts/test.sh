#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (unit, contract tests
# against real Redis and moto on loopback, acceptance suites) and the CDK
# assertion tests. Installs what is missing first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "== cargo test --workspace"
cargo test --workspace

if [ -f infra/package.json ]; then
  echo "== infra: CDK assertion tests"
  npm test --prefix infra
fi
