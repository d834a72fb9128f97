#!/usr/bin/env bash
# The deployed build of the functions, as infra/ bundles each: `cargo lambda
# build --profile lambda-release --arm64 --bin BIN` (zig cross-links aarch64,
# aws-lc-sys included), zipped as `bootstrap` the way Lambda takes it. One
# cargo invocation builds them all (the dependencies once, the links in
# parallel), with the workspace's features as infra's per-function builds
# get them. Prints the wall time, then each binary's and zip's sizes and
# what `file` says, and fails when a binary is not an aarch64 ELF or a zip
# is over the bound.
#
#   scripts/lambda-arm64.sh [BIN...]   (default: every function of
#                                       deploy/functions.json)
#
# MAX_ZIP_BYTES (default 5000000) is the bound (docs/BENCHMARKS.md). The
# output goes to $CARGO_TARGET_DIR/lambda-arm64/BIN/ (--lambda-dir: the
# default target/lambda/BIN is shared with x86_64 builds). Keep
# CARGO_TARGET_DIR across runs: a re-run is then incremental.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -gt 0 ]; then
  bins=("$@")
else
  mapfile -t bins < <(python3 -c 'import json; print("\n".join(json.load(open("deploy/functions.json"))["functions"]))')
fi
max_zip_bytes=${MAX_ZIP_BYTES:-5000000}
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
out="$target_dir/lambda-arm64"

start=$(date +%s)
cargo lambda build --profile lambda-release --arm64 "${bins[@]/#/--bin=}" --lambda-dir "$out"
elapsed=$(($(date +%s) - start))
echo "arm64 build of ${#bins[@]} function(s): ${elapsed}s wall"

mb() { python3 -c "print(f'{$1 / 1e6:.2f} MB')"; }
failed=0
for bin in "${bins[@]}"; do
  bootstrap="$out/$bin/bootstrap"
  zipfile="$out/$bin/bootstrap.zip"
  rm -f "$zipfile"
  # Deflate at level 9, the file named `bootstrap` with its exec bit, like `zip -9`.
  python3 - "$bootstrap" "$zipfile" <<'EOF'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    info = zipfile.ZipInfo.from_file(src, arcname="bootstrap")
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(src, "rb") as f:
        z.writestr(info, f.read(), compresslevel=9)
EOF
  binary_bytes=$(stat -c %s "$bootstrap")
  zip_bytes=$(stat -c %s "$zipfile")
  described=$(file -b "$bootstrap")
  echo "$bin"
  echo "  binary  $bootstrap  $binary_bytes bytes ($(mb "$binary_bytes"))"
  echo "  zipped  $zipfile  $zip_bytes bytes ($(mb "$zip_bytes")), bound $max_zip_bytes"
  echo "  file    $described"
  case "$described" in
    *ELF*"ARM aarch64"*) ;;
    *) echo "lambda-arm64: $bin is not an aarch64 ELF" >&2; failed=1 ;;
  esac
  if [ "$zip_bytes" -gt "$max_zip_bytes" ]; then
    echo "lambda-arm64: $bin zips to $zip_bytes bytes, over the $max_zip_bytes bound" >&2
    failed=1
  fi
done
exit "$failed"
