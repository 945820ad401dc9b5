#!/usr/bin/env bash
# Differential bundles (issue 14): the two-version case. Version 1 and version 2 of a 2-platform
# image share their base layers (v1: 2 layers per platform, v2: the same 2 and a third, each
# LAYER_MIB MiB, incompressible). The far side holds v1; its inventory is made from the v1 bundle;
# v2 is exported in full and with --since. Prints the size saved and each step's wall time.
#
#   scripts/bench-differential.sh [WORKDIR]    (default target/bench-differential; LAYER_MIB=64)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/bench-differential}
mib=${LAYER_MIB:-64}
rm -rf "$work" && mkdir -p "$work"
cargo build --release --quiet
airlock=$PWD/target/release/airlock
now() { date +%s.%N; }
took() { printf "%.2f" "$(echo "$(now) - $1" | bc -l)"; }
fx() { "$airlock" -q fixture "$work/$1" --platforms linux/amd64,linux/arm64 --layers "$2" \
  --layer-size $((mib << 20)) --no-referrer --reference "registry.example/app:$3"; }
fx v1 2 1
fx v2 3 2
"$airlock" -q export "oci:$work/v1:registry.example/app:1" -o "$work/week1.tar.zst"
t=$(now); "$airlock" -q inventory "$work/week1.tar.zst" -o "$work/site.json"; t_inv=$(took "$t")
t=$(now); "$airlock" -q export "oci:$work/v2:registry.example/app:2" -o "$work/full2.tar.zst"; t_full=$(took "$t")
t=$(now); "$airlock" -q export "oci:$work/v2:registry.example/app:2" -o "$work/diff2.tar.zst" --since "$work/site.json"; t_diff=$(took "$t")
t=$(now); "$airlock" -qq verify "$work/diff2.tar.zst" --integrity-only; t_ver=$(took "$t")
t=$(now); "$airlock" -qq verify "$work/diff2.tar.zst" --integrity-only --base "$work/week1.tar.zst"; t_base=$(took "$t")
full=$(stat -c %s "$work/full2.tar.zst")
diff=$(stat -c %s "$work/diff2.tar.zst")
echo "differential bundles: v2 = 6 layers of $mib MiB, 4 of them held by the far side (v1)"
printf '  full export of v2:          %12d bytes  %6s s\n' "$full" "$t_full"
printf '  export --since (v1 held):   %12d bytes  %6s s  (%s%% of full; %d bytes saved)\n' \
  "$diff" "$t_diff" "$(echo "scale=1; $diff * 100 / $full" | bc -l)" $((full - diff))
printf '  inventory of the v1 bundle: %6s s;  verify (differential): %s s;  verify --base v1: %s s\n' \
  "$t_inv" "$t_ver" "$t_base"
rm -rf "$work"
