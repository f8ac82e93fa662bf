# Shared start of the scripts that build a tool from the Go module proxy once per machine, into a cache
# outside the repository keyed by version (scripts/promtool/build.sh, scripts/restic/build.sh,
# scripts/kubeconform/build.sh). Source it after setting NAME (the log prefix) and BIN (the binary's
# path in the cache, under $CACHE_ROOT):
#   - a binary already built is printed on stdout and the script exits 0;
#   - `--check` prints 'not built' on stderr and exits 3 when it is not built;
#   - otherwise GO is set to the go binary (HOMELAB_GO, go on PATH, else /usr/local/go/bin/go).
# shellcheck shell=bash
log() { printf '[%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$NAME" "$*" >&2; exit 1; }

if [ -x "$BIN" ]; then printf '%s\n' "$BIN"; exit 0; fi
if [ "${1:-}" = --check ]; then
  printf 'not built: %s\n' "$BIN" >&2
  exit 3
fi

GO="${HOMELAB_GO:-$(command -v go || echo /usr/local/go/bin/go)}"
[ -x "$GO" ] || die "Go not found (looked for 'go' on PATH and /usr/local/go/bin/go): install Go >= 1.23 or set HOMELAB_GO"

# For a module whose go.mod has no replace directives: `go install PACKAGE@VERSION` builds it as
# released, into a folder beside BIN, then moves the binary to BIN and prints its path.
go_install_to_cache() {
  local pkg="$1" partial start=$SECONDS
  partial="$(dirname "$BIN")/.partial"
  mkdir -p "$partial"
  log "building $pkg (a few minutes on a busy machine)"
  GOFLAGS=-mod=mod GOBIN="$partial" CGO_ENABLED=0 "$GO" install -trimpath -ldflags='-s -w' "$pkg" || die "go install $pkg failed"
  mv "$partial/$(basename "$BIN")" "$BIN"
  rmdir "$partial"
  log "built $BIN in $((SECONDS - start))s"
  printf '%s\n' "$BIN"
}
