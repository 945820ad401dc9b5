#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the Debian packages the tests drive when they
# are missing (skopeo, zstd, GNU tar, openssl; docker-registry and htpasswd for the registry tests), then runs
# cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in skopeo:skopeo zstd:zstd tar:tar openssl:openssl docker-registry:docker-registry htpasswd:apache2-utils; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if ((${#need[@]})); then
  echo "installing: ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

exec cargo test "$@"
