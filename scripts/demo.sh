#!/usr/bin/env bash
# The main job on sample bundles the project generates itself: builds airlock, writes a
# deterministic two-platform sample bundle on first use, inspects it and verifies its integrity;
# then verifies the signed sample (scripts/gen-testdata.sh: openssl PKI, `airlock sign`) against its
# trust policy and trust store.
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
echo
if ! command -v openssl >/dev/null; then
  echo "skipping the signed sample: scripts/gen-testdata.sh needs openssl (apt-get install openssl)" >&2
  exit 0
fi
scripts/gen-testdata.sh target/sample
"$airlock" verify target/sample/signed.tar.zst \
  --trust-policy target/sample/trustpolicy.json --trust-store target/sample/truststore "$@"
