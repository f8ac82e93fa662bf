#!/usr/bin/env bash
# Build restic, the backup program of both platforms' movers, from the Go module proxy, once per
# machine, into a cache outside the repository keyed by version. The version is the one VolSync
# v0.14's restic mover builds (docs/backup.md): the Compose movers and VolSync write one repository
# format. Used on the host by tests that run VolSync's mover script (mover-restic/entry.sh) and in
# the test image restic/restic:<version> (scripts/setup-engines.sh).
# Prints the binary's path on stdout. A second run with the same version is a no-op.
# `build.sh --check` only prints the path when it is built, and exits 3 otherwise.
#
# Environment knobs (all optional):
#   HOMELAB_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/homelab)
#   HOMELAB_GO          the go binary (default: go on PATH, else /usr/local/go/bin/go)
set -euo pipefail
RESTIC_VERSION=v0.18.0

NAME=restic
dest="${HOMELAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab}/restic/$RESTIC_VERSION"
BIN="$dest/restic"
# shellcheck source=../lib/cached-build.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cached-build.sh"
# restic's go.mod has no replace directives, so `go install module@version` builds it as released.
go_install_to_cache "github.com/restic/restic/cmd/restic@$RESTIC_VERSION"
