#!/usr/bin/env bash
# Runs every test of the project: the Rust workspace (unit, contract tests
# against real Redis and moto on loopback, acceptance suites, end-to-end tests
# over real sockets), the browser test of the web app, and the CDK assertion
# tests. Installs what is missing first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "== cargo test --workspace"
cargo test --workspace

echo "== modeled latency, smoke form (a few messages per shape, ~3 s; full figures in docs/BENCHMARKS.md)"
cargo run -q -p chat-bench --bin chat-bench -- latency --smoke

echo "== end-to-end suite again on the real adapters (DynamoDB and SQS in moto, Redis)"
CHAT_E2E_BACKEND=aws cargo test -p chat-local --test e2e

echo "== end-to-end suite again with the cache on a 3-master Redis Cluster (as ElastiCache Serverless)"
CHAT_E2E_BACKEND=aws CHAT_E2E_REDIS=cluster cargo test -p chat-local --test e2e

echo "== end-to-end suite again with the function binaries under cargo lambda watch"
# Built first: watch starts each function with `cargo run` on its first invocation.
cargo build --bins
# --show-output: the steps skipped under watch say why.
CHAT_E2E_FUNCTIONS=watch cargo test -p chat-local --test e2e -- --show-output

echo "== TypeScript SDK (sdk/ts): types from the contracts, build, drift check, tests against chat-local"
# The wire types are generated from docs/schema/frames.schema.json and
# docs/openapi.json (themselves checked against the Rust types above), and
# the compiled ESM is committed (chat-local embeds it): regenerating and
# rebuilding must change nothing.
npm run --prefix sdk/ts gen
npm run --prefix sdk/ts build
# As a third party imports it (by name, Node ESM resolution, the shipped .d.ts).
npm run --prefix sdk/ts typecheck
if [ -n "$(git status --porcelain -- sdk/ts/src/generated sdk/ts/dist)" ]; then
  git status --porcelain -- sdk/ts/src/generated sdk/ts/dist
  echo "sdk/ts: the committed generated types or dist differ from a fresh build:" \
    "run 'npm run gen --prefix sdk/ts && npm run build --prefix sdk/ts' and commit the result" >&2
  exit 1
fi
cargo build -p chat-local
CHAT_LOCAL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/chat-local" npm test --prefix sdk/ts

echo "== browser test of the web app (headless Chromium)"
# The Rust peer the encrypted-room test talks with (e2ee.test.mjs).
cargo build -p chat-client --example e2ee_peer
CHAT_LOCAL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/chat-local" npm test --prefix local/web-tests

echo "== the REST API against its OpenAPI document (schemathesis: no 5xx, documented statuses and bodies)"
CHAT_LOCAL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/chat-local" scripts/api-fuzz.sh

echo "== the stack about to deploy, run locally from its synthesized template (IAM enforced)"
# Bundling skipped: the template is read, never deployed. Every e2e test and
# the browser test run on its routes, authorizers, timeouts, environments and
# role policies; a denied call fails the feature that made it.
TEMPLATE_DIR=$(mktemp -d)
SKIP_BUNDLING=1 npx cdk synth -q -o "$TEMPLATE_DIR" >/dev/null
TEMPLATE=$(ls "$TEMPLATE_DIR"/*.template.json)
# The template tests use the fresh synth; the parser's unit tests a copy.
cmp -s "$TEMPLATE" local/tests/fixtures/Chat-dev.template.json ||
  echo "note: infra changed the template; refresh the unit tests' copy: cp $TEMPLATE local/tests/fixtures/"
CHAT_E2E_TEMPLATE="$TEMPLATE" cargo test -p chat-local --test e2e
# The same stack on the function binaries (built above): one cargo lambda
# watch per function with its environment from the template, its role
# enforced on its real DynamoDB, SQS and @connections calls by chat-local's
# SigV4-reading proxy (~1-2.5 min here).
CHAT_E2E_TEMPLATE="$TEMPLATE" CHAT_E2E_FUNCTIONS=watch cargo test -p chat-local --test e2e -- --show-output
# Every setting the template's, its 1 s batching window included: a sync
# settles the seqs still in the queue (stores and returns them), so a
# reconnect within the window misses nothing.
CHAT_LOCAL_TEMPLATE="$TEMPLATE" \
  CHAT_LOCAL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/chat-local" npm test --prefix local/web-tests
# The REST API as the stack deploys it (gateway refusals included) against
# the same OpenAPI document.
API_FUZZ_TEMPLATE="$TEMPLATE" \
  CHAT_LOCAL_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/chat-local" scripts/api-fuzz.sh
rm -rf "$TEMPLATE_DIR"

if [ -f infra/package.json ]; then
  echo "== infra: CDK assertion tests"
  npm test --prefix infra
fi
