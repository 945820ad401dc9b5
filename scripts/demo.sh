#!/usr/bin/env bash
# The main job on a sample bundle the project generates itself: builds airlock, writes a
# deterministic two-platform sample bundle on first use, then verifies and inspects it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
airlock=target/release/airlock
bundle=target/sample/sample.tar.zst
if [ ! -f "$bundle" ]; then
  mkdir -p target/sample
  "$airlock" fixture "$bundle"
fi
"$airlock" inspect "$bundle"
echo
"$airlock" verify "$bundle" --integrity-only "$@"
