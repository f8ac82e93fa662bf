#!/usr/bin/env bash
# Build promtool, Prometheus' own checker of rule files, from the Go module proxy, once per
# machine, into a cache outside the repository keyed by version. The version is the one of the
# Compose Prometheus the catalog pins (prom/prometheus:v3.5.0): Prometheus v3.x.y is published
# as the Go module version v0.3xy.0 (v3.5.0 is v0.305.0).
# Prints the binary's path on stdout. A second run with the same version is a no-op.
# `build.sh --check` only prints the path when it is built, and exits 3 otherwise.
#
# Environment knobs (all optional):
#   HOMELAB_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/homelab)
#   HOMELAB_GO          the go binary (default: go on PATH, else /usr/local/go/bin/go)
set -euo pipefail
PROMETHEUS_VERSION=v3.5.0
MODULE_VERSION=v0.305.0

NAME=promtool
dest="${HOMELAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab}/promtool/$PROMETHEUS_VERSION"
BIN="$dest/promtool"
# shellcheck source=../lib/cached-build.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cached-build.sh"
bin="$BIN"
start=$SECONDS
mkdir -p "$dest"
# Prometheus' go.mod has replace and exclude directives, so `go install ...@version` is refused: a
# small module of our own requires it and repeats them.
log "fetching github.com/prometheus/prometheus@$MODULE_VERSION (Prometheus $PROMETHEUS_VERSION)"
gomod="$("$GO" mod download -json "github.com/prometheus/prometheus@$MODULE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[ -r "$gomod" ] || die "go mod download github.com/prometheus/prometheus@$MODULE_VERSION gave no go.mod"
mkdir -p "$dest/src"
{
  printf 'module homelab.test/promtool\n\ngo 1.23.0\n\nrequire github.com/prometheus/prometheus %s\n\n' "$MODULE_VERSION"
  # Every replace and exclude directive of Prometheus' go.mod, single-line or in a block.
  awk '/^(replace|exclude) *\(/ { block = 1; print; next } block { print; if ($0 ~ /^\)/) block = 0; next } /^(replace|exclude) / { print }' "$gomod"
} >"$dest/src/go.mod"
cat >"$dest/src/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
GO
cd "$dest/src"
log "resolving modules"
GOFLAGS=-mod=mod "$GO" mod tidy -e >/dev/null 2>"$dest/tidy.log" || { cat "$dest/tidy.log" >&2; die "go mod tidy failed"; }
log "building promtool (a few minutes on a busy machine)"
CGO_ENABLED=0 "$GO" build -trimpath -ldflags='-s -w' -o "$dest/.partial/promtool" github.com/prometheus/prometheus/cmd/promtool ||
  die "go build promtool@$MODULE_VERSION failed"
mv "$dest/.partial/promtool" "$bin"
rmdir "$dest/.partial"
log "built $bin in $((SECONDS - start))s"
printf '%s\n' "$bin"
