#!/usr/bin/env bash
# The main job on sample bundles the project generates itself: builds airlock, writes a
# deterministic two-platform sample bundle on first use, inspects it and verifies its integrity;
# then takes the signed sample (scripts/gen-testdata.sh: openssl PKI, `airlock sign`) through the
# whole flow: export with its trust material, and verify with the trust artifact digest export printed as --pin.
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
echo
echo "== connected side: export the signed image with its trust material"
"$airlock" export "oci:target/sample/signed-layout" -o target/sample/bundle.tar.zst \
  --trust-policy target/sample/trustpolicy.json --trust-store target/sample/truststore 2>target/sample/export.log
cat target/sample/export.log >&2
pin=$(sed -n 's/^ *--pin //p' target/sample/export.log | head -1)
echo
echo "== disconnected side: verify with the trust artifact digest carried out of band (--pin)"
"$airlock" verify target/sample/bundle.tar.zst --pin "$pin" "$@"
