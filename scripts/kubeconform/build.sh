#!/usr/bin/env bash
# Build kubeconform, the Kubernetes manifest validator `npm run bench:validate` pairs homelab
# validate with, from the Go module proxy, once per machine, into a cache outside the repository
# keyed by version. Its default schema location is on the web and fails offline: the bench passes
# the local strict schemas scripts/kubeconform/schemas.ts writes beside it.
# Prints the binary's path on stdout. A second run with the same version is a no-op.
# `build.sh --check` only prints the path when it is built, and exits 3 otherwise.
#
# Environment knobs (all optional):
#   HOMELAB_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/homelab)
#   HOMELAB_GO          the go binary (default: go on PATH, else /usr/local/go/bin/go)
set -euo pipefail
# renovate: datasource=go depName=github.com/yannh/kubeconform
KUBECONFORM_VERSION=v0.7.0

NAME=kubeconform
dest="${HOMELAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab}/kubeconform/$KUBECONFORM_VERSION"
BIN="$dest/kubeconform"
# shellcheck source=../lib/cached-build.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/cached-build.sh"
# kubeconform's go.mod has no replace directives, so `go install module@version` builds it as released.
go_install_to_cache "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
