#!/usr/bin/env bash
# Makes a VAPID key pair (RFC 8292: ECDSA P-256) with openssl and prints the
# value of the stack's VAPID secret, {"publicKey","privateKey","subject"},
# both keys base64url without padding as Web Push wants them. Secrets Manager
# cannot generate EC keys, so the stack creates the secret with a
# placeholder and this fills it.
#
#   scripts/vapid-keys.sh mailto:ops@example.com                 # print only
#   scripts/vapid-keys.sh mailto:ops@example.com <secret ARN>    # and put it
#
# The ARN is the stack output VapidSecretArn. Putting needs the AWS CLI and
# secretsmanager:PutSecretValue on that secret. The private key goes only
# into the secret (stdin of the AWS CLI, never its command line) or to
# stdout when no ARN is given; the public key is printed on stderr: deploy
# again with `-c vapidPublicKey=<it>` so the web app can subscribe. The
# persist function reads the secret at cold start: after a put, its next
# cold start has the key (update the function, or wait).
set -euo pipefail

subject=${1:-}
arn=${2:-}
case "$subject" in
  mailto:?* | https://?*) ;;
  *)
    echo "usage: $0 mailto:you@example.com|https://your.site [secret-arn]" >&2
    exit 2
    ;;
esac
command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }

pem=$(openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null)
# The raw key: `openssl ec -text` is not stable to parse; DER is. The
# private scalar is the 32 bytes after the 7-byte prefix of the SEC1
# structure; the public point is the last 65 bytes of the SubjectPublicKeyInfo.
der=$(printf '%s\n' "$pem" | openssl ec -outform DER 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
private=$(printf '%s' "${der:14:64}" | xxd -r -p | b64url)
public=$(printf '%s\n' "$pem" | openssl ec -pubout -outform DER 2>/dev/null | tail -c 65 | b64url)
if [ "${#private}" -ne 43 ] || [ "${#public}" -ne 87 ]; then
  echo "could not extract the key pair from openssl's output" >&2
  exit 1
fi

value=$(printf '{"publicKey":"%s","privateKey":"%s","subject":"%s"}' "$public" "$private" "$subject")
echo "VAPID public key (deploy with -c vapidPublicKey=...): $public" >&2
if [ -n "$arn" ]; then
  command -v aws >/dev/null || { echo "the AWS CLI is required to put the secret" >&2; exit 1; }
  printf '%s' "$value" | aws secretsmanager put-secret-value --secret-id "$arn" --secret-string file:///dev/stdin >/dev/null
  echo "put into $arn" >&2
else
  printf '%s\n' "$value"
fi
