#!/usr/bin/env bash
# Fuzzes airlock's parsers of hostile input with cargo-fuzz (libFuzzer + AddressSanitizer).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    # default: 60 s for each of the targets below
#
# Builds the crate in fuzz/ (its own workspace: `cargo build`/`cargo test` of airlock never build
# it), seeds fuzz/corpus/<target>/ from the shared Notary corpus (../shared/corpus, or
# AIRLOCK_CORPUS), runs each target for SECONDS with a 512 MiB RSS limit and a -max_len suited to it,
# and prints one line per target: runs, execs/s, and the crash if any. Exits 1 when a target crashed.
#
# cargo-fuzz needs nightly-only compiler flags (-Zsanitizer=address, sancov passes). The project's
# toolchain is stable, so this script sets RUSTC_BOOTSTRAP=1, which makes the stable compiler accept
# them. Only this script does; builds and tests of airlock itself never use it.
#
# fuzz/corpus/ (seeds plus what libFuzzer finds) and fuzz/artifacts/ (crash inputs) are git-ignored:
# never commit them. Reproduce a crash with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-...
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

secs=${1:-60}
shift || true
all=(envelope_cose envelope_jws trust_policy dn timestamp tar_stream document layout_graph)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")

export RUSTC_BOOTSTRAP=1
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1}
corpus_src=${AIRLOCK_CORPUS:-$root/../shared/corpus}

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "installing cargo-fuzz" >&2
  cargo install --locked cargo-fuzz >&2 || exit 2
fi
command -v jq >/dev/null 2>&1 || {
  echo "jq is needed to derive seeds (apt-get install jq)" >&2
  exit 2
}

max_len() {
  case $1 in
    dn) echo 1024 ;;
    trust_policy | document) echo 16384 ;;
    timestamp) echo 32768 ;;
    envelope_cose | envelope_jws | layout_graph) echo 65536 ;;
    tar_stream) echo 131072 ;;
    *) echo 65536 ;;
  esac
}

dict() {
  case $1 in
    trust_policy | document | envelope_jws | layout_graph) echo fuzz/dict/json.dict ;;
    tar_stream) echo fuzz/dict/tar.dict ;;
    dn) echo fuzz/dict/dn.dict ;;
  esac
}

# --- seeds ------------------------------------------------------------------------------------

# seed TARGET < bytes: one seed file named by its content hash (idempotent across runs).
seed() {
  local dir=fuzz/corpus/$1 tmp
  mkdir -p "$dir"
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -s "$tmp" ]; then
    mv "$tmp" "$dir/seed-$(sha256sum "$tmp" | cut -c1-16)"
  else
    rm -f "$tmp"
  fi
}

first_byte() { head -c1 "$1" | od -An -tx1 | tr -d ' \n'; }

# A layout as a layout_graph input: flag byte, then index.json and the blobs separated by two NUL
# bytes, descriptors rewritten to the @N (digest) and #N (size) placeholders. Indexes come first,
# then referrers, then manifests, then the rest, so that with recomputed digests (flag bit 0) most
# references still point at later blobs.
graph_seed() {
  local layout=$1 flags=$2 f n=0 map='{}' order=()
  for f in "$layout"/blobs/sha256/*; do
    if jq -e 'has("manifests")' "$f" >/dev/null 2>&1; then order+=("0 $f")
    elif jq -e 'has("subject")' "$f" >/dev/null 2>&1; then order+=("1 $f")
    elif jq -e 'has("config") or has("layers")' "$f" >/dev/null 2>&1; then order+=("2 $f")
    else order+=("3 $f"); fi
  done
  local sorted
  mapfile -t sorted < <(printf '%s\n' "${order[@]}" | sort | cut -d' ' -f2-)
  for f in "${sorted[@]}"; do
    n=$((n + 1))
    map=$(jq -c --arg d "sha256:$(basename "$f")" --arg n "$n" '. + {($d): $n}' <<<"$map")
  done
  rewrite() {
    if jq -e . "$1" >/dev/null 2>&1; then
      jq -c --argjson m "$map" 'walk(if type == "object" and (.digest | type) == "string"
          and $m[.digest] != null then ($m[.digest]) as $n | .digest = "@\($n)" | .size = "#\($n)"
          else . end)' "$1" | sed -E 's/"#([0-9]+)"/#\1/g' | tr -d '\n'
    else
      cat "$1"
    fi
  }
  {
    printf "\\x$flags"
    rewrite "$layout/index.json"
    for f in "${sorted[@]}"; do
      printf '\0\0'
      rewrite "$f"
    done
  } | seed layout_graph
}

make_seeds() {
  local c=$corpus_src d f
  if [ ! -d "$c" ]; then
    echo "no shared corpus at $c: fuzzing from empty corpora" >&2
    return
  fi
  # Envelopes named by the standalone envelope cases, by media type.
  for d in "$c"/envelopes/*/; do
    [ -f "$d/case.json" ] || continue
    local sig mt
    sig=$(jq -r '.verify.signature // empty' "$d/case.json")
    mt=$(jq -r '.verify.envelope_media_type // empty' "$d/case.json")
    [ -n "$sig" ] && [ -f "$d/$sig" ] || continue
    case $mt in
      application/cose) seed envelope_cose <"$d/$sig" ;;
      application/jose+json)
        seed envelope_jws <"$d/$sig"
        # The timestamp token a JWS carries in its unprotected header.
        jq -r '.header["io.cncf.notary.timestampSignature"] // empty' "$d/$sig" 2>/dev/null |
          base64 -d 2>/dev/null | seed timestamp
        ;;
    esac
  done
  # RFC 3161 tokens.
  for f in "$c"/envelopes/*/*.p7s; do seed timestamp <"$f"; done
  # Trust policies, and the distinguished names of their x509.subject identities.
  while IFS= read -r -d '' f; do
    seed trust_policy <"$f"
    jq -r '.. | .trustedIdentities? // empty | .[]? | strings | select(startswith("x509.subject"))
           | sub("^x509\\.subject:? *"; "")' "$f" 2>/dev/null |
      while IFS= read -r dn; do printf '%s' "$dn" | seed dn; done
  done < <(find "$c" -name 'trustpolicy*.json' -print0)
  printf 'CN=a\\,b+OU=x,O=Notary,C=US\nC=US,O=Notary' | seed dn
  printf 'CN="quoted",O=#04036162,ST=W\\41,C=US' | seed dn
  # Layouts: the tarballs, every JSON document, every envelope blob, and the graph form.
  local -A seen=()
  local key
  for d in "$c"/*/layout; do
    [ -d "$d" ] || continue
    # Many cases share one layout: derive each distinct layout once.
    key=$(cat "$d/index.json" "$d/../layout.tar" 2>/dev/null | sha256sum | cut -c1-16)
    [ -z "${seen[$key]:-}" ] || continue
    seen[$key]=1
    [ -f "$d/../layout.tar" ] && seed tar_stream <"$d/../layout.tar"
    seed document <"$d/index.json"
    for f in "$d"/blobs/sha256/*; do
      case $(first_byte "$f") in
        d2 | 84) seed envelope_cose <"$f" ;;
        7b)
          if grep -q '"protected"' "$f"; then seed envelope_jws <"$f"; else seed document <"$f"; fi
          ;;
      esac
    done
    graph_seed "$d" 00
    graph_seed "$d" 01
  done
}

# --- build and run ----------------------------------------------------------------------------

make_seeds
echo "building fuzz targets" >&2
cargo fuzz build >fuzz/build.log 2>&1 || {
  tail -40 fuzz/build.log >&2
  exit 2
}

mkdir -p fuzz/logs
status=0
for t in "${targets[@]}"; do
  log=fuzz/logs/$t.log
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  d=$(dict "$t")
  cargo fuzz run "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$secs" -rss_limit_mb=512 -max_len="$(max_len "$t")" -timeout=10 \
    ${d:+-dict="$d"} -print_final_stats=1 >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  if [ -z "$runs" ]; then
    runs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    speed=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  fi
  crash=$(grep -oE '(crash|leak|timeout|oom|slow-unit)-[0-9a-f]+' "$log" | head -1)
  kind=$(grep -m1 -oE 'ERROR: libFuzzer: [a-z-]+|panicked at [^:]+:[0-9]+|ERROR: AddressSanitizer: [a-z-]+' "$log")
  if ((rc == 0)); then
    printf '%-14s runs=%-10s exec/s=%-7s ok\n' "$t" "${runs:-?}" "${speed:-?}"
  else
    status=1
    printf '%-14s runs=%-10s exec/s=%-7s CRASH %s %s (log %s)\n' "$t" "${runs:-?}" "${speed:-?}" \
      "${kind:-exit $rc}" "${crash:+fuzz/artifacts/$t/$crash}" "$log"
  fi
done
exit $status
