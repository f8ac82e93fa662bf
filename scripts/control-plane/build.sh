#!/usr/bin/env bash
# Build the Kubernetes control plane the tests run against, from the Go module
# proxy, once per machine, into a cache outside the repository keyed by version:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s.io/kubernetes),
#   etcd (go.etcd.io/etcd/server/v3, the version Kubernetes itself requires),
#   kwok (sigs.k8s.io/kwok: fake nodes and pod status, so rollouts complete).
# Prints the bin folder on stdout. A second run with the same versions is a no-op.
# `build.sh --check` only prints the folder when everything is built, and exits 3 otherwise.
#
# Environment knobs (all optional):
#   HOMELAB_CACHE_DIR   cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/homelab)
#   HOMELAB_GO          the go binary (default: go on PATH, else /usr/local/go/bin/go)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"

log() { printf '[control-plane] %s\n' "$*" >&2; }
die() { printf '[control-plane] ERROR: %s\n' "$*" >&2; exit 1; }

cache_root="${HOMELAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab}"
key="k8s-${KUBERNETES_VERSION}_kwok-${KWOK_VERSION}"
dest="$cache_root/control-plane/$key"
bins=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok)

complete() { local b; for b in "${bins[@]}"; do [ -x "$dest/bin/$b" ] || return 1; done; }
if complete; then printf '%s\n' "$dest/bin"; exit 0; fi
if [ "${1:-}" = --check ]; then
  printf 'not built: %s has not every one of %s\n' "$dest/bin" "${bins[*]}" >&2
  exit 3
fi

GO="${HOMELAB_GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[ -x "$GO" ] || die "Go not found (looked for 'go' on PATH and /usr/local/go/bin/go): install Go >= 1.24 or set HOMELAB_GO"
start=$SECONDS
mkdir -p "$dest/src/etcd" "$dest/bin"
# Kubernetes' own go.mod replaces its staging modules (k8s.io/api, k8s.io/apiserver, ...) with
# folders of its repository, so `go install k8s.io/kubernetes/cmd/...@vX` is refused. This module
# requires k8s.io/kubernetes and pins every staging module at the matching published v0.x instead.
minor_patch="${KUBERNETES_VERSION#v1.}"
staging_version="v0.$minor_patch"
log "fetching k8s.io/kubernetes@$KUBERNETES_VERSION"
gomod="$("$GO" mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
[ -r "$gomod" ] || die "go mod download k8s.io/kubernetes@$KUBERNETES_VERSION gave no go.mod"
staging="$(sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/src/.*#\1#p' "$gomod")"
[ -n "$staging" ] || die "no staging replacements found in k8s.io/kubernetes@$KUBERNETES_VERSION's go.mod"
{
  printf 'module homelab.test/control-plane\n\ngo 1.24.0\n\nrequire k8s.io/kubernetes %s\n\n' "$KUBERNETES_VERSION"
  for m in $staging; do printf 'replace %s => %s %s\n' "$m" "$m" "$staging_version"; done
} >"$dest/src/go.mod"
# etcd: the server version that Kubernetes itself requires, through etcd's own entry point.
cat >"$dest/src/etcd/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
cat >"$dest/src/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
cd "$dest/src"
log "resolving modules"
GOFLAGS=-mod=mod "$GO" mod tidy -e >/dev/null 2>"$dest/tidy.log" || { cat "$dest/tidy.log" >&2; die "go mod tidy failed"; }
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor_patch%%.*} -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=${minor_patch%%.*}"
log "building kube-apiserver kube-controller-manager kube-scheduler kubectl etcd (first time: many minutes on 2 cores)"
CGO_ENABLED=0 "$GO" build -trimpath -ldflags "$ldflags" -o "$dest/bin/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl ./etcd
log "building kwok $KWOK_VERSION"
CGO_ENABLED=0 GOBIN="$dest/bin" "$GO" install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
complete || die "build finished without every binary in $dest/bin"
log "built in $((SECONDS - start))s into $dest/bin ($(du -sh "$dest/bin" | cut -f1))"
printf '%s\n' "$dest/bin"
