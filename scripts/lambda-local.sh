#!/usr/bin/env bash
# Runs the platform with every function as its own process, the way it is
# deployed: the function binaries under `cargo lambda watch` (the Lambda
# Invoke API, rebuilding a function when its code changes), behind
# `chat-local --backend aws --lambda-endpoint …` (the API Gateway and SQS
# twins), on DynamoDB and SQS in moto and, with --redis, the Redis cache.
# No AWS account, no Docker. Ctrl-C stops everything it started.
#
#   scripts/lambda-local.sh [--redis] [--template cdk.out/<Stack>.template.json]
#
# --template runs the stack the template describes: chat-local starts one
# watch per function itself, each with its environment from the template
# and its role enforced on its AWS and @connections calls (logs in
# $TMPDIR/chat-local-functions/), and this script sets no function
# environment.
#
# Ports (environment): PORT (chat-local, 8080), LAMBDA_PORT (cargo lambda
# watch, 9000), MOTO_PORT (5000), REDIS_PORT (6379, with --redis).
# Logs: $LOG_DIR (default /tmp/chat-lambda-local): moto.log, redis.log,
# chat-local.log, watch.log (the functions' own logs are in watch.log).
set -euo pipefail
cd "$(dirname "$0")/.."

redis=false
template=
while [ $# -gt 0 ]; do
  case "$1" in
    --redis) redis=true ;;
    --template)
      [ $# -ge 2 ] || { echo "lambda-local: --template needs a path" >&2; exit 2; }
      template=$2
      shift
      ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lambda-local: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "$template" ] && [ ! -f "$template" ]; then
  echo "lambda-local: no template at $template" >&2
  exit 2
fi

PORT=${PORT:-8080}
LAMBDA_PORT=${LAMBDA_PORT:-9000}
MOTO_PORT=${MOTO_PORT:-5000}
REDIS_PORT=${REDIS_PORT:-6379}
LOG_DIR=${LOG_DIR:-/tmp/chat-lambda-local}
STAGE=local
mkdir -p "$LOG_DIR"

missing=()
cargo lambda --version >/dev/null 2>&1 || missing+=("cargo-lambda (pip install cargo-lambda)")
command -v moto_server >/dev/null 2>&1 || missing+=("moto_server (pip install 'moto[server]')")
if $redis; then
  command -v redis-server >/dev/null 2>&1 || missing+=("redis-server (apt-get install redis-server)")
fi
if [ ${#missing[@]} -gt 0 ]; then
  printf 'lambda-local: missing %s\n' "${missing[@]}" >&2
  echo "lambda-local: scripts/setup.sh installs them all" >&2
  exit 1
fi

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports=("$PORT" "$MOTO_PORT")
if [ -z "$template" ]; then ports+=("$LAMBDA_PORT"); fi
for p in "${ports[@]}"; do
  if listening "$p"; then echo "lambda-local: port $p is taken" >&2; exit 1; fi
done

# What the stack gives every function (infra/), pointed at this machine. The
# two sides must agree on the secret (chat-local signs the development
# tokens the authorizer checks), the table, the queue and the @connections
# endpoint (chat-local's).
export CHAT_BACKEND=aws
export CHAT_TABLE_NAME=${CHAT_TABLE_NAME:-chat-local}
# The attachments bucket: chat-local --create-resources creates it; the
# functions sign and claim uploads in it.
export CHAT_BUCKET_NAME=${CHAT_BUCKET_NAME:-$CHAT_TABLE_NAME-attachments}
export CHAT_JWT_SECRET=${CHAT_JWT_SECRET:-chat-local-development-secret}
# The persist function's VAPID secret: unless you put one in moto (value as
# scripts/vapid-keys.sh prints it), it is missing and Web Push stays off.
export CHAT_VAPID_SECRET_ARN=${CHAT_VAPID_SECRET_ARN:-arn:aws:secretsmanager:us-east-1:000000000000:secret:chat-vapid}
export CHAT_WS_ENDPOINT="http://127.0.0.1:$PORT/$STAGE"
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
if $redis; then export CHAT_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"; fi

# Every process below gets its own process group (job control), so stopping
# one stops its children too (watch runs each function as a child).
set -m
pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "lambda-local: stopping"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM -- "-${pids[i]}" 2>/dev/null || true
  done
  if $redis; then redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; fi
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

wait_for_port() { # name port log
  for _ in $(seq 1 600); do
    listening "$2" && return 0
    sleep 0.1
  done
  echo "lambda-local: $1 did not start; see $3" >&2
  tail -n 20 "$3" >&2
  exit 1
}

echo "lambda-local: building the binaries (cargo build --bins)"
cargo build --bins
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

# moto with each DynamoDB request atomic, as in DynamoDB (see the script).
python3 testkit/moto_atomic.py -H 127.0.0.1 -p "$MOTO_PORT" >"$LOG_DIR/moto.log" 2>&1 &
pids+=($!)
wait_for_port moto "$MOTO_PORT" "$LOG_DIR/moto.log"

if $redis; then
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    >"$LOG_DIR/redis.log" 2>&1 &
  pids+=($!)
  wait_for_port redis "$REDIS_PORT" "$LOG_DIR/redis.log"
fi

if [ -n "$template" ]; then
  # chat-local creates the table and queues as the template describes them,
  # and starts each function under its own watch with the template's
  # environment (none of this shell's CHAT_* or AWS_* variables).
  "$target_dir/debug/chat-local" --template "$template" --backend aws --create-resources \
    --functions watch --port "$PORT" >"$LOG_DIR/chat-local.log" 2>&1 &
  pids+=($!)
  wait_for_port chat-local "$PORT" "$LOG_DIR/chat-local.log"
  set +m
  cat "$LOG_DIR/chat-local.log"
  cat <<EOF

Functions: one cargo lambda watch each, started by chat-local with the
template's environment; their logs are in ${TMPDIR:-/tmp}/chat-local-functions/.
What IAM refused: curl -s http://127.0.0.1:$PORT/dev/denied
Logs in $LOG_DIR: chat-local.log, moto.log. Ctrl-C stops everything.
EOF
  wait -n "${pids[@]}" || true
  echo "lambda-local: a process exited; see the logs in $LOG_DIR" >&2
  exit 1
fi

# chat-local creates the table, the queue and its DLQ.
"$target_dir/debug/chat-local" --backend aws --create-resources --port "$PORT" \
  --stage "$STAGE" --lambda-endpoint "http://127.0.0.1:$LAMBDA_PORT" \
  >"$LOG_DIR/chat-local.log" 2>&1 &
pids+=($!)
wait_for_port chat-local "$PORT" "$LOG_DIR/chat-local.log"

# The persistence function's queue URLs, as the stack would pass them.
read -r CHAT_QUEUE_URL CHAT_DLQ_URL < <(python3 - "$CHAT_TABLE_NAME-messages" <<'EOF'
import os, sys, boto3
sqs = boto3.client("sqs", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                   region_name=os.environ["AWS_REGION"])
name = sys.argv[1]
print(sqs.get_queue_url(QueueName=name)["QueueUrl"],
      sqs.get_queue_url(QueueName=name + "-dlq")["QueueUrl"])
EOF
)
export CHAT_QUEUE_URL CHAT_DLQ_URL

# Mobile push: chat-local made the SNS platform applications in moto; the
# functions get their ARNs as the template gives them to users and persist.
read -r CHAT_SNS_FCM_APP_ARN CHAT_SNS_APNS_APP_ARN < <(python3 - "$CHAT_TABLE_NAME" <<'EOF'
import os, sys, boto3
sns = boto3.client("sns", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                   region_name=os.environ["AWS_REGION"])
apps = [a["PlatformApplicationArn"] for a in sns.list_platform_applications()["PlatformApplications"]]
name = lambda suffix: next(a for a in apps if a.endswith("/" + sys.argv[1] + "-" + suffix))
print(name("fcm"), name("apns"))
EOF
)
export CHAT_SNS_FCM_APP_ARN CHAT_SNS_APNS_APP_ARN

cargo lambda watch -A 127.0.0.1 -P "$LAMBDA_PORT" >"$LOG_DIR/watch.log" 2>&1 &
pids+=($!)
wait_for_port "cargo lambda watch" "$LAMBDA_PORT" "$LOG_DIR/watch.log"

set +m # every process has its group; no job notices from here on
cat "$LOG_DIR/chat-local.log"
cat <<EOF

Functions: cargo lambda watch on http://127.0.0.1:$LAMBDA_PORT (each starts on
its first invocation and is rebuilt when its code changes).
Logs in $LOG_DIR: chat-local.log, watch.log (the functions), moto.log.
Invoke one directly:  cargo lambda invoke chat-disconnect -A 127.0.0.1 -P $LAMBDA_PORT \\
                        --data-file functions/disconnect/tests/fixtures/disconnect.json
Ctrl-C stops everything.
EOF
# Until Ctrl-C, or until one of them stops by itself.
wait -n "${pids[@]}" || true
echo "lambda-local: a process exited; see the logs in $LOG_DIR" >&2
exit 1
