#!/usr/bin/env bash
# Builds the two release binaries and prints their sha256 and sizes:
#   dist/airlock-verify-static  the far-side binary: the verify-only build (--no-default-features:
#                               verify, inspect, export from local layouts, sign, completions; no
#                               registry client, no TLS, no name resolution), statically linked
#                               (gnu target, -C target-feature=+crt-static) and stripped, so it
#                               runs on a disconnected host whatever its libc;
#   dist/airlock                the ordinary full build (dynamically linked against glibc), stripped.
# Then checks with `file` and `ldd` that the far-side binary is static, and runs both once.
# Usage: scripts/release.sh [OUT_DIR]   (default dist/)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
mkdir -p "$out"
host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
  *-linux-gnu) ;;
  *) echo "release.sh: the static build is made for a *-linux-gnu host; this is $host" >&2; exit 2 ;;
esac

echo "== far side: verify-only, static ($host, +crt-static)" >&2
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
  cargo build --release --locked --no-default-features --target "$host" \
  --target-dir target/release-static
install -m 0755 "target/release-static/$host/release/airlock" "$out/airlock-verify-static.tmp"
strip "$out/airlock-verify-static.tmp"
mv -f "$out/airlock-verify-static.tmp" "$out/airlock-verify-static"

echo "== connected side: full build" >&2
cargo build --release --locked
install -m 0755 target/release/airlock "$out/airlock.tmp"
strip "$out/airlock.tmp"
mv -f "$out/airlock.tmp" "$out/airlock"

# The far-side binary must need no shared library at all.
static="$out/airlock-verify-static"
desc=$(file -b "$static")
case "$desc" in
  *"statically linked"*|*"static-pie linked"*) ;;
  *) echo "release.sh: $static is not static: $desc" >&2; exit 1 ;;
esac
if ldd "$static" >/dev/null 2>&1 && ! ldd "$static" 2>&1 | grep -q "statically linked"; then
  echo "release.sh: ldd lists shared libraries for $static:" >&2
  ldd "$static" >&2
  exit 1
fi
"$static" --version >/dev/null
"$out/airlock" --version >/dev/null

echo "== binaries" >&2
for f in "$static" "$out/airlock"; do
  size=$(stat -c %s "$f")
  printf '%s  %s  %s bytes  %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$f" "$size" "$(file -b "$f" | cut -d, -f1-2)"
done
(cd "$out" && sha256sum airlock-verify-static airlock > SHA256SUMS.tmp && mv -f SHA256SUMS.tmp SHA256SUMS)
echo "checksums in $out/SHA256SUMS" >&2
