#!/usr/bin/env bash
# Regenerates man/*.1 and completions/* from the clap definition (the man test fails when they are stale).
set -euo pipefail
cd "$(dirname "$0")/.."
AIRLOCK_UPDATE_MAN=1 cargo test --quiet --test integration man:: >/dev/null
git status --short man/ completions/
