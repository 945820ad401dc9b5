#!/usr/bin/env bash
# Benchmarks airlock verify against its peers, measured in the same run, as ratios.
#
# Fixture (deterministic): a 1 GiB layout of 4 incompressible 256 MiB layers under a 2-platform
# index, as a directory, a .tar and a .tar.zst. Each command runs RUNS times (default 3) with a warm
# page cache; the median wall time and the largest peak RSS are reported. Commands compared with
# each other take turns run by run (interleave), so that the machine's drift falls on all alike.
#
#   scripts/bench.sh [WORKDIR]      (default target/bench; needs ~4 GiB of disk, ~17 GiB while the 4 GiB-layer rows run)
#
# BIG=0 skips the one-4-GiB-layer rows, PARTS=0 the parts rows, DIFFERENTIAL=0 the differential case.
# BENCH_ONLY=export: only the export-from-registry rows (dir, .tar, .tar.zst beside skopeo and the
# fetch and zstd limits measured in the same run), with their ratios and peak RSS.
# BENCH_ONLY=transfers: those and the import rows (beside skopeo and the registry's ingest limit).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/bench}
runs=${RUNS:-3}
only=${BENCH_ONLY:-}
mkdir -p "$work"
cargo build --release --quiet
airlock=$PWD/target/release/airlock

for tool in openssl sha256sum zstd /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench needs $tool" >&2; exit 2; }
done

layout=$work/layout
if [ ! -f "$layout/index.json" ]; then
  echo "generating 1 GiB fixture in $layout" >&2
  "$airlock" -q fixture "$layout" --platforms linux/amd64,linux/arm64 --layers 2 --layer-size $((256 << 20)) --no-referrer
fi
[ -n "$only" ] || [ -f "$work/bundle.tar" ] || "$airlock" -q fixture "$work/bundle.tar" --platforms linux/amd64,linux/arm64 --layers 2 --layer-size $((256 << 20)) --no-referrer
[ "$only" = export ] || [ -f "$work/bundle.tar.zst" ] || "$airlock" -q fixture "$work/bundle.tar.zst" --platforms linux/amd64,linux/arm64 --layers 2 --layer-size $((256 << 20)) --no-referrer
cat "$layout"/blobs/sha256/* >/dev/null # warm the page cache
[ -n "$only" ] || cat "$work"/bundle.tar "$work"/bundle.tar.zst >/dev/null

# [PREP=CMD] measure NAME CMD... -> prints "NAME wall_seconds peak_rss_kib", stores WALL[NAME],
# RSS[NAME]. Before each timed run, untimed: PREP (removing the previous run's output, emptying
# the registry), then `sync`, so that no run pays for the write-back of the one before it.
declare -A WALL RSS
measure() {
  local name=$1; shift
  local walls=() rss=0 out
  for _ in $(seq "$runs"); do
    [ -z "${PREP:-}" ] || bash -c "$PREP"
    sync
    /usr/bin/time -f '%e %M' -o "$work/.time" bash -c "$*" >/dev/null 2>&1 || true
    out=$(tail -1 "$work/.time")
    walls+=("${out% *}")
    local r=${out#* }
    ((r > rss)) && rss=$r
  done
  local med
  med=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  WALL[$name]=$med
  RSS[$name]=$rss
  printf '%-34s %7.2f s  %8.1f MiB peak RSS\n' "$name" "$med" "$(echo "$rss / 1024" | bc -l)"
}

# interleave NAME PREP CMD [NAME PREP CMD ...]: as measure, for commands compared with each other;
# they take turns, run by run (A B C, A B C, ...), so that the machine's drift (this disk's speed
# changes from minute to minute) falls on all of them alike instead of on whichever ran last.
interleave() {
  local names=() preps=() cmds=() i r out rr med
  while (($#)); do names+=("$1"); preps+=("$2"); cmds+=("$3"); shift 3; done
  local -A walls_of rss_of
  for r in $(seq "$runs"); do
    for i in "${!names[@]}"; do
      [ -z "${preps[$i]}" ] || bash -c "${preps[$i]}"
      sync
      /usr/bin/time -f '%e %M' -o "$work/.time" bash -c "${cmds[$i]}" >/dev/null 2>&1 || true
      out=$(tail -1 "$work/.time")
      walls_of[$i]+="${out% *} "
      rr=${out#* }
      ((rr > ${rss_of[$i]:-0})) && rss_of[$i]=$rr
    done
  done
  for i in "${!names[@]}"; do
    # shellcheck disable=SC2086 # one wall time per word
    med=$(printf '%s\n' ${walls_of[$i]} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    WALL[${names[$i]}]=$med
    RSS[${names[$i]}]=${rss_of[$i]}
    printf '%-34s %7.2f s  %8.1f MiB peak RSS\n' "${names[$i]}" "$med" "$(echo "${rss_of[$i]} / 1024" | bc -l)"
  done
}

if [ -z "$only" ]; then
for b in "$layout" "$work/bundle.tar" "$work/bundle.tar.zst"; do
  "$airlock" -q verify "$b" --integrity-only || { echo "airlock verify $b did not pass" >&2; exit 1; }
done

fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fixture: $(du -sh "$layout" | cut -f1) layout; median of $runs runs"
echo
if [ -z "$only" ]; then
interleave \
  "airlock verify (directory)"   "" "$airlock -q verify $layout --integrity-only" \
  "airlock verify (.tar)"        "" "$airlock -q verify $work/bundle.tar --integrity-only" \
  "airlock verify (.tar.zst)"    "" "$airlock -q verify $work/bundle.tar.zst --integrity-only" \
  "openssl dgst -sha256 (blobs)" "" "openssl dgst -sha256 $layout/blobs/sha256/*" \
  "sha256sum (blobs)"            "" "sha256sum $layout/blobs/sha256/*" \
  "zstd -dc | openssl dgst"      "" "zstd -dc $work/bundle.tar.zst | openssl dgst -sha256"
# PARTS (issue 13): the .tar.zst bundle split into 100 MiB parts and into 1 MiB parts (about a
# thousand), verified from its parts against the single file in the same run: one streaming pass
# over the parts, each part hashed on the way. Target: within 5% of the single file, flat memory.
bench_parts() {
  local parts=$work/parts
  for size in 100M 1M; do
    if [ ! -f "$parts-$size/bundle.tar.zst.parts.json" ]; then
      rm -rf "$parts-$size"; mkdir -p "$parts-$size"
      "$airlock" -q split "$work/bundle.tar.zst" --size "$size" -o "$parts-$size" >/dev/null
    fi
    cat "$parts-$size"/bundle.tar.zst.* >/dev/null # warm the page cache
    "$airlock" -q verify "$parts-$size" --integrity-only || { echo "verify from parts ($size) did not pass" >&2; exit 1; }
  done
  interleave \
    "airlock verify (.tar.zst, again)"   "" "$airlock -q verify $work/bundle.tar.zst --integrity-only" \
    "airlock verify (100M parts)"        "" "$airlock -q verify $parts-100M --integrity-only" \
    "airlock verify (1M parts)"          "" "$airlock -q verify $parts-1M --integrity-only" \
    "airlock verify --parts-only (100M)" "" "$airlock -q verify --parts-only $parts-100M"
  local one=${WALL['airlock verify (.tar.zst, again)']}
  printf '  parts: 100M parts %+.1f%%, 1M parts %+.1f%% vs the single .tar.zst (target within 5%%); peak RSS %.1f MiB\n' \
    "$(echo "(${WALL['airlock verify (100M parts)']} - $one) * 100 / $one" | bc -l)" \
    "$(echo "(${WALL['airlock verify (1M parts)']} - $one) * 100 / $one" | bc -l)" \
    "$(echo "${RSS['airlock verify (1M parts)']} / 1024" | bc -l)"
}
[ "${PARTS:-1}" = 0 ] || bench_parts

if command -v oci-image-tool >/dev/null; then
  # oci-image-tool 1.0.0-rc1 does not know image indexes: it validates the layout structure and
  # skips the index's children, so it hashes far less than airlock does. Shown as asked, not as a peer.
  measure "oci-image-tool validate"    "oci-image-tool validate --type image $layout"
fi

# Signature verification overhead: the bench layout signed with the sample PKI (scripts/gen-testdata.sh).
if command -v openssl >/dev/null; then
  scripts/gen-testdata.sh target/sample >/dev/null 2>&1
  if ! grep -q 'application/vnd.cncf.notary.signature' "$layout/index.json"; then
    "$airlock" -q sign "$layout" --key target/sample/pki/leaf.key --cert target/sample/pki/chain.pem \
      --signing-time 2025-06-01T00:00:00Z >/dev/null
  fi
  trust="--trust-policy target/sample/trustpolicy.json --trust-store target/sample/truststore"
  interleave \
    "verify dir, integrity only"  "" "$airlock -q verify $layout --integrity-only" \
    "verify dir, with signatures" "" "$airlock -q verify $layout $trust"
fi

# Export from the local layout (the registry source comes with the registry client).
if command -v skopeo >/dev/null; then
  ref="registry.example/airlock/sample:1.0"
  interleave \
    "airlock export -> dir"            "rm -rf $work/exp-dir" "$airlock -q export oci:$layout:$ref -o $work/exp-dir" \
    "airlock export -> .tar.zst"       "rm -f $work/exp.tar.zst" "$airlock -q export oci:$layout:$ref -o $work/exp.tar.zst" \
    "skopeo copy oci: -> oci:"         "rm -rf $work/sk-dir" "skopeo --insecure-policy copy -q --preserve-digests --all oci:$layout:$ref oci:$work/sk-dir:x" \
    "skopeo copy oci: -> oci-archive:" "rm -f $work/sk.tar" "skopeo --insecure-policy copy -q --preserve-digests --all oci:$layout:$ref oci-archive:$work/sk.tar:x"
fi
fi # BENCH_ONLY

# Import rows: bench_import REGDIR starts a second registry (storage under REGDIR/data2, emptied
# before every run) and measures airlock import (directory, .tar.zst; --jobs default), skopeo copy
# oci: -> docker:, and the registry's ingest limit: the 4 layers PUT with curl 2 and 4 at a time.
put_blob() { # put_blob HOST:PORT FILE: one monolithic upload, streamed from the file
  local loc d=sha256:${2##*/}
  loc=$(curl -sf -D - -o /dev/null -X POST "http://$1/v2/limit/blobs/uploads/" | tr -d '\r' |
    awk 'tolower($1) == "location:" {print $2}')
  [[ $loc == http* ]] || loc="http://$1$loc"
  [[ $loc == *\?* ]] && loc="$loc&digest=$d" || loc="$loc?digest=$d"
  curl -sf -T "$2" -H 'Content-Type: application/octet-stream' "$loc" >/dev/null
}
export -f put_blob
bench_import() {
  local regdir=$1 port2 layers # regpid2, regb and wipe stay global: the EXIT trap and bench_big use them
  port2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s/data2}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:%s}\n' "$regdir" "$port2" >"$regdir/config2.yml"
  docker-registry serve "$regdir/config2.yml" >/dev/null 2>&1 &
  regpid2=$!
  trap 'kill $regpid $regpid2 2>/dev/null; rm -rf "$regdir"' EXIT
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$port2/v2/" >/dev/null && break; sleep 0.1; done
  regb=127.0.0.1:$port2
  # Every run reads its input from the page cache, as the header promises: the inputs are read
  # again (untimed) before each run, because this machine's page cache lets gigabytes go between
  # rows (fincore showed a bundle partly evicted; a run that pays disk reads measures the disk).
  wipe="rm -rf $regdir/data2/docker; cat $layout/blobs/sha256/* $work/bundle.tar.zst >/dev/null"
  layers=$(ls -S "$layout"/blobs/sha256 | head -4 | sed "s|^|$layout/blobs/sha256/|" | tr '\n' ' ')
  interleave \
    "airlock import dir -> registry"      "$wipe" "$airlock -q import $layout --to $regb/imp --integrity-only" \
    "airlock import .tar.zst -> registry" "$wipe" "$airlock -q import $work/bundle.tar.zst --to $regb/imp --integrity-only" \
    "skopeo copy oci: -> docker:"         "$wipe" "skopeo --insecure-policy copy -q --all --preserve-digests --dest-tls-verify=false oci:$layout:registry.example/airlock/sample:1.0 docker://$regb/imp/sample:1.0" \
    "registry ingest: curl PUT x2"        "$wipe" "printf '%s\n' $layers | xargs -P 2 -I{} bash -c 'put_blob $regb {}'" \
    "registry ingest: curl PUT x4"        "$wipe" "printf '%s\n' $layers | xargs -P 4 -I{} bash -c 'put_blob $regb {}'"
}

# One 4 GiB layer (issue 12, item 3): memory stays flat whatever the size of a layer. Export from
# the registry into .tar.zst and into a directory, verify the .tar.zst, import it into the empty
# second registry; one run each (BIG=0 skips; needs ~13 GiB of disk, removed afterwards).
bench_big() {
  local big=$work/big runs=1
  [ -f "$big/index.json" ] || "$airlock" -q fixture "$big" --platforms linux/amd64 --layers 1 --layer-size $((4 << 30)) --no-referrer
  skopeo --insecure-policy copy -q --preserve-digests --all --dest-tls-verify=false \
    "oci:$big:registry.example/airlock/sample:1.0" "docker://$reg/bench/big:1.0"
  PREP="rm -f $work/big.tar.zst" measure "4 GiB layer: export -> .tar.zst"   "$airlock -q export $reg/bench/big:1.0 --plain-http $reg -o $work/big.tar.zst"
  PREP="rm -rf $work/big-dir" measure "4 GiB layer: export -> dir"        "$airlock -q export $reg/bench/big:1.0 --plain-http $reg -o $work/big-dir"
  measure "4 GiB layer: verify .tar.zst"      "$airlock -q verify $work/big.tar.zst --integrity-only"
  PREP="$wipe" measure "4 GiB layer: import .tar.zst"      "$airlock -q import $work/big.tar.zst --to $regb/imp --integrity-only"
  rm -rf "$big" "$work/big-dir" "$work/big.tar.zst"
}

# --- export from the registry (export side) ---------------------------------------------------
# airlock export (dir, .tar, .tar.zst; --jobs default 4) beside skopeo, and beside the limits
# measured in the same run: the layers fetched 2 at a time with curl to files (the network and disk
# side), and `zstd -T0 -3` over the exported tar (the compression side).
bench_registry_export() {
  local layers warm
  layers=$(find "$layout/blobs/sha256" -type f -size +1M -printf '%f\n' | tr '\n' ' ')
  # The registry's own files read again (untimed) before each run: every row serves from the
  # page cache (see bench_import).
  warm="find $regdir/data -type f -exec cat {} + >/dev/null"
  # The limits run in the same turns: the layers fetched with curl, zstd over the tar the
  # airlock row before it wrote, and the disk (every export writes the whole image and syncs
  # each file before renaming it).
  interleave \
    "airlock export registry -> dir"      "rm -rf $work/rx-dir; $warm" "$airlock -q export $reg/bench/sample:1.0 --plain-http $reg -o $work/rx-dir" \
    "airlock export registry -> .tar"     "rm -f $work/rx.tar; $warm" "$airlock -q export $reg/bench/sample:1.0 --plain-http $reg -o $work/rx.tar" \
    "airlock export registry -> .tar.zst" "rm -f $work/rx.tar.zst; $warm" "$airlock -q export $reg/bench/sample:1.0 --plain-http $reg -o $work/rx.tar.zst" \
    "skopeo copy docker: -> oci:"         "rm -rf $work/sx-dir; $warm" "skopeo --insecure-policy copy -q --all --preserve-digests --src-tls-verify=false docker://$reg/bench/sample:1.0 oci:$work/sx-dir:x" \
    "skopeo copy docker: -> oci-archive:" "rm -f $work/sx.tar; $warm" "skopeo --insecure-policy copy -q --all --preserve-digests --src-tls-verify=false docker://$reg/bench/sample:1.0 oci-archive:$work/sx.tar:x" \
    "limit: curl layers 2 at a time"      "rm -rf $work/cf; $warm" "mkdir -p $work/cf && printf '%s\\n' $layers | xargs -P2 -I{} curl -sf -o $work/cf/{} http://$reg/v2/bench/sample/blobs/sha256:{}" \
    "limit: zstd -T0 -3 over the tar"     "" "zstd -q -T0 -3 -c $work/rx.tar >/dev/null" \
    "limit: disk, dd 1 GiB conv=fsync"    "rm -f $work/dd" "dd if=/dev/zero of=$work/dd bs=1M count=1024 conv=fsync status=none"
}

# report_registry_export: the export rows of the ratios (peer or limit time / airlock time).
report_registry_export() {
  local a
  printf '  registry export dir vs skopeo oci:       %sx  (target >= 3x)\n' "$(ratio 'skopeo copy docker: -> oci:' 'airlock export registry -> dir')"
  printf '  registry export .tar.zst vs skopeo tar:  %sx  (target >= 4x)\n' "$(ratio 'skopeo copy docker: -> oci-archive:' 'airlock export registry -> .tar.zst')"
  for a in dir .tar .tar.zst; do
    printf '  registry export %-8s at the fetch limit: %sx  (curl, 2 at a time: 1.0x is the limit)\n' "$a" "$(ratio 'limit: curl layers 2 at a time' "airlock export registry -> $a")"
  done
  printf '  registry export .tar.zst at zstd -T0:    %sx  (1.0x is the limit)\n' "$(ratio 'limit: zstd -T0 -3 over the tar' 'airlock export registry -> .tar.zst')"
  for a in dir .tar .tar.zst; do
    printf '  registry export %-8s at the disk limit:  %sx  (dd of 1 GiB with fsync: 1.0x is the limit)\n' "$a" "$(ratio 'limit: disk, dd 1 GiB conv=fsync' "airlock export registry -> $a")"
  done
  printf '  registry export peak RSS dir/.tar/.tar.zst: %s / %s / %s MiB  (target < 128 MiB)\n' \
    "$(( RSS['airlock export registry -> dir'] / 1024 ))" "$(( RSS['airlock export registry -> .tar'] / 1024 ))" "$(( RSS['airlock export registry -> .tar.zst'] / 1024 ))"
}


# Registry: export from, and import into, Debian's docker-registry on loopback.
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  regdir=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s/data}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:%s}\n' "$regdir" "$port" >"$regdir/config.yml"
  docker-registry serve "$regdir/config.yml" >/dev/null 2>&1 &
  regpid=$!
  trap 'kill $regpid 2>/dev/null; rm -rf "$regdir"' EXIT
  for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  reg=127.0.0.1:$port
  skopeo --insecure-policy copy -q --preserve-digests --all --dest-tls-verify=false \
    "oci:$layout:registry.example/airlock/sample:1.0" "docker://$reg/bench/sample:1.0"
  bench_registry_export
  # Imports (dir and .tar.zst of the fixture) beside skopeo and beside the registry's own ingest
  # limit: each run goes into a registry whose storage is emptied first (a fresh, empty registry:
  # every tool uploads every byte; skopeo's blob-info cache cannot mount from a repository that
  # is gone).
  [ "$only" = export ] || bench_import "$regdir"
  [ -n "$only" ] || [ "${BIG:-1}" = 0 ] || bench_big
fi

ratio() { echo "scale=2; ${WALL[$1]} / ${WALL[$2]}" | bc -l; }
echo
echo "ratios (peer time / airlock time; > 1 means airlock is faster)"
if [ -z "$only" ]; then
printf '  directory vs openssl dgst -sha256:      %sx  (target >= 1.6x)\n' "$(ratio 'openssl dgst -sha256 (blobs)' 'airlock verify (directory)')"
printf '  directory vs sha256sum:                 %sx\n' "$(ratio 'sha256sum (blobs)' 'airlock verify (directory)')"
printf '  .tar.zst vs zstd -dc | openssl dgst:    %sx  (target >= 1.0x)\n' "$(ratio 'zstd -dc | openssl dgst' 'airlock verify (.tar.zst)')"
printf '  .tar vs openssl dgst -sha256:           %sx\n' "$(ratio 'openssl dgst -sha256 (blobs)' 'airlock verify (.tar)')"
if [ -n "${WALL['oci-image-tool validate']:-}" ]; then
  printf '  directory vs oci-image-tool validate:   %sx  (oci-image-tool skips index children)\n' "$(ratio 'oci-image-tool validate' 'airlock verify (directory)')"
fi
if [ -n "${WALL['verify dir, with signatures']:-}" ]; then
  printf '  signature verification overhead:        %s%%  (target < 5%%)\n' \
    "$(echo "scale=1; (${WALL['verify dir, with signatures']} - ${WALL['verify dir, integrity only']}) * 100 / ${WALL['verify dir, integrity only']}" | bc -l)"
fi
fi # BENCH_ONLY
if [ -n "${WALL['skopeo copy oci: -> oci:']:-}" ]; then
  printf '  export dir vs skopeo copy oci:->oci:     %sx  (registry-source target >= 2x)\n' "$(ratio 'skopeo copy oci: -> oci:' 'airlock export -> dir')"
  printf '  export .tar.zst vs skopeo oci-archive:   %sx  (registry-source target >= 3x; skopeo writes an uncompressed tar)\n' "$(ratio 'skopeo copy oci: -> oci-archive:' 'airlock export -> .tar.zst')"
  printf '  export peak RSS:                        %.1f MiB  (target < 128 MiB)\n' "$(echo "$(( RSS['airlock export -> dir'] > RSS['airlock export -> .tar.zst'] ? RSS['airlock export -> dir'] : RSS['airlock export -> .tar.zst'] )) / 1024" | bc -l)"
fi
if [ -n "${WALL['skopeo copy docker: -> oci:']:-}" ]; then
  report_registry_export
  [ -z "${RSS['airlock import .tar.zst -> registry']:-}" ] ||
  printf '  registry export / import peak RSS:      %s / %s MiB  (targets < 128 MiB)\n' \
    "$(( RSS['airlock export registry -> .tar.zst'] / 1024 ))" "$(( RSS['airlock import .tar.zst -> registry'] / 1024 ))"
fi
[ "$only" = export ] && exit 0
[ -n "$only" ] || {
max=0
for k in "airlock verify (directory)" "airlock verify (.tar)" "airlock verify (.tar.zst)"; do
  ((RSS[$k] > max)) && max=${RSS[$k]}
done
printf '  airlock peak RSS:                       %.1f MiB  (target < 64 MiB)\n' "$(echo "$max / 1024" | bc -l)"
}

import_rows() {
  [ -n "${WALL['airlock import dir -> registry']:-}" ] || return 0
  local limit=${WALL['registry ingest: curl PUT x4']}
  if (( $(echo "${WALL['registry ingest: curl PUT x2']} < $limit" | bc -l) )); then limit=${WALL['registry ingest: curl PUT x2']}; fi
  echo
  echo "import (each run into an empty registry; limit = the faster of curl PUT x2 / x4: $limit s)"
  printf '  import dir vs skopeo oci: -> docker:      %sx  (target >= 1.3x)  at %s%% of the ingest limit\n' \
    "$(ratio 'skopeo copy oci: -> docker:' 'airlock import dir -> registry')" \
    "$(echo "scale=0; $limit * 100 / ${WALL['airlock import dir -> registry']}" | bc -l)"
  printf '  import .tar.zst vs skopeo from the dir:   %sx  (target >= 1.15x)  at %s%% of the ingest limit\n' \
    "$(ratio 'skopeo copy oci: -> docker:' 'airlock import .tar.zst -> registry')" \
    "$(echo "scale=0; $limit * 100 / ${WALL['airlock import .tar.zst -> registry']}" | bc -l)"
  printf '  import peak RSS (dir / .tar.zst):         %s / %s MiB  (target < 128 MiB)\n' \
    "$(( RSS['airlock import dir -> registry'] / 1024 ))" "$(( RSS['airlock import .tar.zst -> registry'] / 1024 ))"
}
import_rows

if [ -n "${RSS['4 GiB layer: export -> .tar.zst']:-}" ]; then
  echo
  printf 'one 4 GiB layer, peak RSS: export .tar.zst %s MiB, export dir %s MiB, import %s MiB (target < 128 MiB); verify %s MiB (target < 64 MiB)\n' \
    "$(( RSS['4 GiB layer: export -> .tar.zst'] / 1024 ))" "$(( RSS['4 GiB layer: export -> dir'] / 1024 ))" \
    "$(( RSS['4 GiB layer: import .tar.zst'] / 1024 ))" "$(( RSS['4 GiB layer: verify .tar.zst'] / 1024 ))"
fi

# Differential bundles (issue 14): the two-version case, size saved and times (DIFFERENTIAL=0 skips).
[ -n "$only" ] || [ "${DIFFERENTIAL:-1}" = 0 ] || bash scripts/bench-differential.sh "$work/differential"
