#!/usr/bin/env bash
# Build kustomize-batch (tools/homelab/engines/kustomize-batch: many kustomize overlays built in one
# process, each as `kubectl kustomize` builds it; docs/validate.md, "How overlays are built") from
# the Go module proxy, once per machine, into a cache outside the repository keyed by a hash of its
# sources, so an edit of them builds it anew. validate finds it at the same path
# (tools/homelab/src/validate/kustomize-engine.ts computes the same key).
# Prints the binary's path on stdout. A second run with the same sources is a no-op.
# `build.sh --check` only prints the path when it is built, and exits 3 otherwise.
#
# Environment knobs (all optional):
#   HOMELAB_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/homelab)
#   HOMELAB_GO          the go binary (default: go on PATH, else /usr/local/go/bin/go)
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tools/homelab/engines/kustomize-batch" && pwd)"

# The key: every file of the source folder, in byte order of their names, each as its name, a NUL,
# its content and a NUL; the first 16 hex digits of the SHA-256 of that.
source_key() {
  local f
  (cd "$src" && for f in $(LC_ALL=C ls -A | LC_ALL=C sort); do
    [ -f "$f" ] || continue
    printf '%s\0' "$f"
    cat "$f"
    printf '\0'
  done) | sha256sum | cut -c1-16
}

NAME=kustomize-batch
dest="${HOMELAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab}/kustomize-batch/$(source_key)"
BIN="$dest/kustomize-batch"
# shellcheck source=../lib/cached-build.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cached-build.sh"

start=$SECONDS
partial="$dest/.partial"
rm -rf "$partial"
mkdir -p "$partial/src"
# Built from a copy, so the build never writes into the repository.
cp -a "$src/." "$partial/src/"
log "building kustomize-batch from $src (a few minutes on a busy machine)"
(cd "$partial/src" && GOFLAGS=-mod=mod CGO_ENABLED=0 "$GO" build -trimpath -ldflags='-s -w' -o "$partial/kustomize-batch" .) ||
  die "go build of $src failed"
"$partial/kustomize-batch" --version >/dev/null || die "kustomize-batch was built but does not run"
mv "$partial/kustomize-batch" "$BIN"
rm -rf "$partial"
log "built $BIN in $((SECONDS - start))s"
printf '%s\n' "$BIN"
