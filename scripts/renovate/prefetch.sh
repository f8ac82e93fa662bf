#!/usr/bin/env bash
# Warms npm's cache with Node and Renovate at the versions of versions.env, so the Renovate tests
# (tests/renovate/) do not pay the download (about 90 s the first time on a 2-core machine; a warm
# run starts in about 3 s). Run by scripts/setup-engines.sh; a second run is a no-op.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"

log() { printf '[renovate] %s\n' "$*" >&2; }
die() { printf '[renovate] ERROR: %s\n' "$*" >&2; exit 1; }

command -v npx >/dev/null 2>&1 || die "npx not found: install Node.js 20.19+ first"
# The workspace's .npmrc says engine-strict (for its own install): Renovate's packages ask for Node 22+,
# and npx runs them on the Node 24 it fetches.
got="$(npm_config_engine_strict=false npx -y -p "node@$RENOVATE_NODE" -p "renovate@$RENOVATE_VERSION" -- renovate --version 2>/dev/null | tail -n 1)" ||
  die "npx could not run renovate@$RENOVATE_VERSION on node@$RENOVATE_NODE (is the npm registry reachable?)"
[ "$got" = "$RENOVATE_VERSION" ] || die "npx ran renovate $got, not the pinned $RENOVATE_VERSION"
log "renovate $got on node@$RENOVATE_NODE is in npm's cache"
