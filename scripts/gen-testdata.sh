#!/usr/bin/env bash
# Writes the signed sample bundle the README demo verifies, with the project's own tools:
#
#   OUT/pki/            root CA, intermediate CA and code-signing leaf (openssl; fixed subjects and
#                       validity windows), chain.pem (leaf, intermediate, root)
#   OUT/truststore/     x509/ca/airlock-sample/root.crt
#   OUT/trustpolicy.json
#   OUT/signed-layout/  `airlock fixture` + `airlock sign` (COSE, fixed signing time)
#   OUT/signed.tar.zst  the same layout, `airlock pack`ed
#
#   scripts/gen-testdata.sh [OUT]      (default target/sample)
#
# openssl cannot make keys from a seed, so the keys (and therefore the certificates and the
# signature) differ from one machine to the next. The script is idempotent instead: what exists is
# kept, and only what is missing is made (delete OUT/pki to start over). It ends by verifying the
# bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/sample}
command -v openssl >/dev/null || { echo "gen-testdata.sh needs openssl" >&2; exit 2; }
cargo build --release --quiet
airlock=$PWD/target/release/airlock
pki=$out/pki
mkdir -p "$pki"

ROOT_SUBJ="/C=US/ST=WA/O=airlock sample/CN=airlock sample root CA"
INTER_SUBJ="/C=US/ST=WA/O=airlock sample/CN=airlock sample intermediate CA"
LEAF_SUBJ="/C=US/ST=WA/O=airlock sample/CN=airlock sample signer"
LEAF_IDENTITY="x509.subject: C=US, ST=WA, O=airlock sample, CN=airlock sample signer"
SIGNING_TIME=2025-06-01T00:00:00Z

if [ ! -f "$pki/chain.pem" ]; then
  echo "minting the sample PKI in $pki" >&2
  ca=$pki/ca
  rm -rf "$ca"
  mkdir -p "$ca/new"
  : >"$ca/index.txt"
  echo 1000 >"$ca/serial"
  cat >"$ca/openssl.cnf" <<EOF
[ ca ]
default_ca = sample
[ sample ]
database = $ca/index.txt
new_certs_dir = $ca/new
serial = $ca/serial
default_md = sha256
policy = any
preserve = yes
email_in_dn = no
unique_subject = no
copy_extensions = none
[ any ]
countryName = optional
stateOrProvinceName = optional
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ root_ext ]
basicConstraints = critical, CA:true, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ inter_ext ]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
  # issue NAME SUBJECT CURVE EXTENSIONS START END [ISSUER]  (no ISSUER: self-signed)
  issue() {
    local name=$1 subj=$2 curve=$3 ext=$4 start=$5 end=$6 issuer=${7:-}
    openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -out "$pki/$name.key" 2>/dev/null
    openssl req -new -config "$ca/openssl.cnf" -key "$pki/$name.key" -subj "$subj" -out "$ca/$name.csr"
    if [ -z "$issuer" ]; then
      openssl ca -batch -notext -config "$ca/openssl.cnf" -selfsign -keyfile "$pki/$name.key" \
        -in "$ca/$name.csr" -out "$pki/$name.crt" -extensions "$ext" -startdate "$start" -enddate "$end" 2>/dev/null
    else
      openssl ca -batch -notext -config "$ca/openssl.cnf" -cert "$pki/$issuer.crt" -keyfile "$pki/$issuer.key" \
        -in "$ca/$name.csr" -out "$pki/$name.crt" -extensions "$ext" -startdate "$start" -enddate "$end" 2>/dev/null
    fi
  }
  issue root "$ROOT_SUBJ" P-384 root_ext 20250101000000Z 20450101000000Z
  issue inter "$INTER_SUBJ" P-256 inter_ext 20250101000000Z 20400101000000Z root
  issue leaf "$LEAF_SUBJ" P-256 leaf_ext 20250101000000Z 20350101000000Z inter
  cat "$pki/leaf.crt" "$pki/inter.crt" "$pki/root.crt" >"$pki/chain.tmp"
  mv "$pki/chain.tmp" "$pki/chain.pem"
  rm -f "$out/signed.tar.zst"
fi

store=$out/truststore/x509/ca/airlock-sample
mkdir -p "$store"
cmp -s "$pki/root.crt" "$store/root.crt" || cp "$pki/root.crt" "$store/root.crt"

cat >"$out/trustpolicy.json.tmp" <<EOF
{
  "version": "1.0",
  "trustPolicies": [
    {
      "name": "airlock-sample",
      "registryScopes": ["registry.example/airlock/sample"],
      "signatureVerification": { "level": "strict" },
      "trustStores": ["ca:airlock-sample"],
      "trustedIdentities": ["$LEAF_IDENTITY"]
    }
  ]
}
EOF
mv "$out/trustpolicy.json.tmp" "$out/trustpolicy.json"

if [ ! -f "$out/signed.tar.zst" ] || [ ! -f "$out/signed-layout/index.json" ]; then
  echo "signing the sample bundle $out/signed.tar.zst" >&2
  tmp=$(mktemp -d "$out/.signed.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  "$airlock" -q fixture "$tmp/layout"
  "$airlock" -q sign "$tmp/layout" --key "$pki/leaf.key" --cert "$pki/chain.pem" \
    --envelope cose --signing-time "$SIGNING_TIME" >/dev/null
  "$airlock" -q pack "$tmp/layout" "$out/signed.tar.zst"
  rm -rf "$out/signed-layout"
  mv "$tmp/layout" "$out/signed-layout"
fi

"$airlock" -qq verify "$out/signed.tar.zst" --trust-policy "$out/trustpolicy.json" --trust-store "$out/truststore" ||
  { echo "$out/signed.tar.zst does not verify; delete $pki and run again" >&2; exit 1; }
echo "ok: $out/signed.tar.zst verifies with $out/trustpolicy.json and $out/truststore" >&2
