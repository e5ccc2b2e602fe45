#!/usr/bin/env bash
# Sets up the run-image stand-ins that tests/it/e2e.rs needs (idempotent; as root, with the Debian
# and npm registries reachable). Run from anywhere: bash tests/e2e/setup.sh
#
# The originals name node 22, `lts` and `current` (bare `node`, `node:latest`) and distroless
# nodejs22; the fixed files name the release unroot pins to. tests/it/e2e.rs builds nothing on
# demand, so all of them are made here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export RUN_IMAGE_HOME=${RUN_IMAGE_HOME:-/var/lib/run-image}
TOOLS=../shared/tools/run-image

# npm lists the releases: lts and current are worked out as run-image.sh resolves them.
majors=$(printf '%s\n' 22 "$(python3 "$TOOLS/run_image.py" major-of lts)" \
    "$(python3 "$TOOLS/run_image.py" major-of current)" | sort -un | tr '\n' ' ')
bash "$TOOLS/setup-base-images.sh" --majors "$majors" --flavors "full slim alpine distroless" --quiet

# The release `FROM node:lts` is pinned to, with the tests' date (tests/common/mod.rs TODAY).
cargo build --quiet --bin unroot
pinned=$(printf 'FROM node:lts\n' | UNROOT_TODAY=2026-11-24 target/debug/unroot --select floating-tag - 2>/dev/null | sed -n 's/^FROM node://p')
case "$pinned" in
    [0-9]*.[0-9]*.[0-9]*) ;;
    *) echo "cannot tell which release unroot pins node:lts to (got '$pinned')" >&2; exit 1 ;;
esac
bash "$TOOLS/setup-base-images.sh" --versions "$pinned" --flavors "full slim alpine" --no-apt --quiet
echo "e2e stand-ins: node majors ${majors% }, pinned $pinned (RUN_IMAGE_HOME=$RUN_IMAGE_HOME)"
