#!/usr/bin/env bash
# Install and start the real engines the tests need, on Debian 12 (bookworm)
# or Debian 13 (trixie), as root:
#   - kubectl >= 1.27 with built-in kustomize
#   - Docker Engine (dockerd) + Compose v2 CLI plugin
#   - local test images homelab-test/busybox:1 and :2, built without a registry
#   - the Kubernetes control plane the API tests run against (etcd, kube-apiserver,
#     kube-controller-manager, kube-scheduler, kubectl, kwok), built from the Go module proxy
#     once per machine into a cache outside the repository (scripts/control-plane/build.sh)
#   - traefik/whoami:v1.10.4 for the README demo's test: a stand-in built from
#     scripts/test-images/whoami with Go, FROM scratch, without a registry
#   - homelab-test/docker-cli:1, the stand-in of the Compose cron scheduler's image (busybox
#     crond and this machine's docker CLI), without a registry
#   - PostgreSQL's server and client binaries (Debian's postgresql package: 15 on Debian 12, 17 on
#     13, contrib extensions included), which the per-app database tests start a throwaway server of
#   - restic 0.18.0 (the version VolSync v0.14's mover runs), built from the Go module proxy once per
#     machine into a cache outside the repository (scripts/restic/build.sh), and the image
#     restic/restic:0.18.0 of the Compose backup movers: FROM scratch, that restic and busybox-static
#   - homelab-test/postgres:15, the stand-in of the official postgres:15 image: Debian's PostgreSQL 15
#     binaries, busybox and an entrypoint like the official one (scripts/test-images/postgres)
#   - Node 24 and the pinned Renovate in npm's cache, for the Renovate tests (scripts/renovate/prefetch.sh)
#   - promtool, Prometheus' checker of rule files and configuration, at the version of the
#     Compose Prometheus the catalog pins, built from the Go module proxy once per machine into
#     a cache outside the repository (scripts/promtool/build.sh)
#   - kubeconform v0.7.0, which `npm run bench:validate` pairs homelab validate with, built from the
#     Go module proxy once per machine into a cache outside the repository (scripts/kubeconform/build.sh);
#     only where Go exists: a machine without Go skips it with a line saying so
#   - Chromium (Debian's chromium package), in which the status page's test opens the page headless
#   - kustomize-batch (tools/homelab/engines/kustomize-batch), which validate builds many kustomize
#     overlays with in one process, built from the Go module proxy once per machine into a cache outside
#     the repository keyed by its sources' hash (scripts/kustomize-batch/build.sh); only where Go exists:
#     without it validate builds overlays with kubectl, as before
#
# Idempotent: when everything is present and dockerd is running it is a quick
# no-op. Network rule: dockerd runs without bridge/iptables/NAT; containers are
# expected to use `network_mode: host` bound to 127.0.0.1.
#
# Environment knobs (all optional):
#   HOMELAB_DOCKERD_LOG      dockerd log file      (default /var/log/homelab-dockerd.log)
#   HOMELAB_DOCKERD_PIDFILE  pid file of our dockerd (default /run/homelab-dockerd.pid)
#   HOMELAB_DOCKERD_WAIT     seconds to wait for `docker info` (default 60)
#   HOMELAB_REBUILD_IMAGES=1 rebuild the test images even if they exist
#   HOMELAB_CACHE_DIR        where the control plane, the CRDs and test binaries are built and kept,
#                            outside the repository (default ${XDG_CACHE_HOME:-$HOME/.cache}/homelab)
#   HOMELAB_GO               the go binary (default $HOMELAB_GO, /usr/local/go/bin/go, else go on PATH)
#   HOMELAB_CHROMIUM         a Chromium to use instead of Debian's (the tests read it too)
set -euo pipefail

DOCKERD_LOG="${HOMELAB_DOCKERD_LOG:-/var/log/homelab-dockerd.log}"
DOCKERD_PIDFILE="${HOMELAB_DOCKERD_PIDFILE:-/run/homelab-dockerd.pid}"
DOCKERD_WAIT="${HOMELAB_DOCKERD_WAIT:-60}"
REBUILD_IMAGES="${HOMELAB_REBUILD_IMAGES:-0}"
COMPOSE_PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
TEST_IMAGE=homelab-test/busybox
KUBECTL_MIN_MINOR=27

export DEBIAN_FRONTEND=noninteractive

log() { printf '[setup-engines] %s\n' "$*" >&2; }
die() { printf '[setup-engines] ERROR: %s\n' "$*" >&2; exit 1; }

# --engines-only: kubectl, Docker and Compose (and the busybox images), without what only this
# repository's own tests need (the Kubernetes control plane and the whoami stand-in, both built
# with Go, and the scheduler stand-in). The workflow shipped to users (.github/workflows/ci.yml) runs it this way.
ENGINES_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --engines-only) ENGINES_ONLY=1 ;;
    *) die "unknown option '$arg'; the only option is --engines-only (skip the control plane and the whoami and scheduler stand-ins)" ;;
  esac
done

# ---------------------------------------------------------------- cleanup ---
# Every temporary thing registers a cleanup command; they all run on exit,
# including on failure.
CLEANUPS=()
add_cleanup() { CLEANUPS+=("$1"); }
run_cleanups() {
  local i
  for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${CLEANUPS[$i]}" || true
  done
}
trap run_cleanups EXIT
trap "exit 130" INT TERM

# ------------------------------------------------------------------ checks ---
[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts dockerd)"
[ -r /etc/debian_version ] || die "/etc/debian_version not found: only Debian 12/13 are supported"
DEBIAN_VERSION="$(cat /etc/debian_version)"
case "$DEBIAN_VERSION" in
  12.* | 12 | bookworm*) DEBIAN_CODENAME=bookworm ;;
  13.* | 13 | trixie*) DEBIAN_CODENAME=trixie ;;
  *) die "unsupported Debian version '$DEBIAN_VERSION' (need 12/bookworm or 13/trixie)" ;;
esac
log "Debian $DEBIAN_VERSION ($DEBIAN_CODENAME)"

# -------------------------------------------------------------------- apt ---
APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq
    APT_UPDATED=1
  fi
}

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Keep package maintainer scripts from starting services (a stock dockerd would
# create a bridge and iptables rules). Only added if the machine has none.
POLICY_RC=/usr/sbin/policy-rc.d
guard_service_start() {
  if [ ! -e "$POLICY_RC" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    add_cleanup "rm -f '$POLICY_RC'"
  fi
}

apt_install() {
  local missing=() p
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  apt_update_once
  guard_service_start
  log "apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Print the first URI of the machine's own Debian main-archive source
# (the one that serves "$DEBIAN_CODENAME"), from deb822 .sources files or
# one-line .list files. No host name is hard-coded here.
debian_source_uri() {
  local f uri
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    uri="$(awk -v suite="$DEBIAN_CODENAME" '
      function flush() {
        if (uris != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ (" " suite " ")) {
          split(uris, u, /[ \t]+/); print u[1]; found = 1; exit
        }
        uris = ""; suites = ""; types = ""
      }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]*#/ { next }
      tolower($0) ~ /^uris:/   { sub(/^[^:]*:[ \t]*/, ""); uris = $0; next }
      tolower($0) ~ /^suites:/ { sub(/^[^:]*:[ \t]*/, ""); gsub(/[ \t]+/, " "); suites = $0; next }
      tolower($0) ~ /^types:/  { sub(/^[^:]*:[ \t]*/, ""); types = $0; next }
      END { if (!found) flush() }
    ' "$f")"
    if [ -n "$uri" ]; then
      printf '%s\n' "$uri"
      shopt -u nullglob
      return 0
    fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    uri="$(awk -v suite="$DEBIAN_CODENAME" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }' "$f")"
    if [ -n "$uri" ]; then
      printf '%s\n' "$uri"
      shopt -u nullglob
      return 0
    fi
  done
  shopt -u nullglob
  return 1
}

# ---------------------------------------------------------------- kubectl ---
kubectl_minor() {
  # Works for old (version.Info{...}) and new kubectl: ask for JSON.
  kubectl version --client -o json 2>/dev/null |
    sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n 1
}

ensure_kubectl() {
  local minor=""
  if command -v kubectl >/dev/null 2>&1; then minor="$(kubectl_minor || true)"; fi
  if [ -n "$minor" ] && [ "$minor" -ge "$KUBECTL_MIN_MINOR" ]; then
    return 0
  fi
  if [ "$DEBIAN_CODENAME" = trixie ]; then
    apt_install kubernetes-client kustomize
    hash -r
    minor="$(kubectl_minor || true)"
  fi
  if [ -z "$minor" ] || [ "$minor" -lt "$KUBECTL_MIN_MINOR" ]; then
    die "kubectl >= 1.$KUBECTL_MIN_MINOR with built-in kustomize is required; found: ${minor:+1.}${minor:-none}.
  On Debian 12 the machine image normally ships kubectl 1.32 in /usr/bin (bookworm's own kubernetes-client is 1.20, too old).
  On Debian 13: apt-get install kubernetes-client kustomize"
  fi
  kubectl kustomize --help >/dev/null 2>&1 || die "kubectl has no built-in 'kustomize' subcommand"
}

# ----------------------------------------------------------- docker engine ---
ensure_docker_packages() {
  if [ "$DEBIAN_CODENAME" = trixie ]; then
    apt_install docker.io docker-compose busybox-static
  else
    apt_install docker.io busybox-static
  fi
  hash -r
  command -v dockerd >/dev/null 2>&1 || die "dockerd not found after installing docker.io"
  command -v docker >/dev/null 2>&1 || die "docker CLI not found after installing docker.io"
}

compose_v2_version() {
  # Prints e.g. 2.26.1 if `docker compose` is a v2 plugin, nothing otherwise.
  local v
  v="$(docker compose version --short 2>/dev/null || true)"
  v="${v#v}"
  case "$v" in 2.* | [3-9].*) printf '%s\n' "$v" ;; esac
}

# Compose v2 on bookworm: take the plugin binary out of trixie's
# docker-compose .deb. The trixie source lives only in a temporary apt
# configuration (own sources list, lists dir and cache), so the machine's apt
# state is never touched and no re-update is needed afterwards.
install_compose_from_trixie() {
  local uri keyring tmp
  uri="$(debian_source_uri)" || die "could not find the machine's Debian source for '$DEBIAN_CODENAME' in /etc/apt (needed to fetch docker-compose from trixie)"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -r "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"

  tmp="$(mktemp -d -t homelab-compose.XXXXXX)"
  add_cleanup "rm -rf '$tmp'"
  chmod 755 "$tmp" # apt downloads as the unprivileged _apt user
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/deb" "$tmp/x"
  printf 'deb [signed-by=%s] %s trixie main\n' "$keyring" "$uri" >"$tmp/trixie.list"
  if id _apt >/dev/null 2>&1; then chown -R _apt "$tmp/lists" "$tmp/deb"; fi

  local apt_opts=(
    -o "Dir::Etc::SourceList=$tmp/trixie.list"
    -o "Dir::Etc::SourceParts=-"
    -o "Dir::State::Lists=$tmp/lists"
    -o "Dir::Cache=$tmp/cache"
    -o "Dir::Cache::pkgcache="
    -o "Dir::Cache::srcpkgcache="
    -o "APT::Get::List-Cleanup=0"
  )
  log "fetching docker-compose (Compose v2) from a temporary 'trixie' apt source"
  apt-get "${apt_opts[@]}" update -qq --error-on=any ||
    die "apt-get update of the temporary trixie source ($uri) failed"
  (cd "$tmp/deb" && apt-get "${apt_opts[@]}" download -qq docker-compose) ||
    die "apt-get download docker-compose from trixie failed"
  local deb
  deb="$(find "$tmp/deb" -maxdepth 1 -name 'docker-compose_*.deb' | head -n 1)"
  [ -n "$deb" ] || die "apt-get download docker-compose produced no .deb"
  dpkg -x "$deb" "$tmp/x"
  [ -x "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" ] ||
    die "$(basename "$deb") has no usr/libexec/docker/cli-plugins/docker-compose"
  mkdir -p "$COMPOSE_PLUGIN_DIR"
  install -m 0755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" "$COMPOSE_PLUGIN_DIR/docker-compose"
  log "installed $COMPOSE_PLUGIN_DIR/docker-compose from $(basename "$deb")"
}

ensure_compose() {
  [ -n "$(compose_v2_version)" ] && return 0
  if [ "$DEBIAN_CODENAME" = trixie ]; then
    apt_install docker-compose
  else
    install_compose_from_trixie
  fi
  [ -n "$(compose_v2_version)" ] ||
    die "'docker compose version' does not report v2 (got: $(docker compose version 2>&1 | head -n 1))"
}

docker_up() { timeout 10 docker info >/dev/null 2>&1; }

# True if pid is a live dockerd. `kill -0` alone is not enough: a killed
# dockerd whose parent (PID 1 here) does not reap it stays a zombie.
dockerd_alive() {
  local pid="$1" stat
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
  case "$stat" in
    *"(dockerd) "[ZX]*) return 1 ;;
    *"(dockerd) "*) return 0 ;;
    *) return 1 ;;
  esac
}

ensure_dockerd() {
  if docker_up; then return 0; fi
  local pid=""
  if [ -s "$DOCKERD_PIDFILE" ]; then pid="$(cat "$DOCKERD_PIDFILE")"; fi
  if dockerd_alive "$pid"; then
    log "dockerd (pid $pid) is running but not answering yet; waiting"
  else
    mkdir -p "$(dirname "$DOCKERD_LOG")" "$(dirname "$DOCKERD_PIDFILE")"
    log "starting dockerd (no bridge, no iptables); log: $DOCKERD_LOG"
    # setsid + nohup: detached from this script's session, survives its exit.
    setsid nohup dockerd \
      --bridge=none \
      --iptables=false \
      --ip-forward=false \
      --ip-masq=false \
      >>"$DOCKERD_LOG" 2>&1 </dev/null &
    pid=$!
    printf '%s\n' "$pid" >"$DOCKERD_PIDFILE"
  fi
  local t0=$SECONDS
  while ((SECONDS - t0 < DOCKERD_WAIT)); do
    if docker_up; then
      log "dockerd is up after $((SECONDS - t0))s"
      return 0
    fi
    if ! dockerd_alive "$pid"; then
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      die "dockerd (pid $pid) exited; see $DOCKERD_LOG"
    fi
    sleep 1
  done
  tail -n 30 "$DOCKERD_LOG" >&2 || true
  die "dockerd did not answer 'docker info' within ${DOCKERD_WAIT}s; see $DOCKERD_LOG"
}

# ------------------------------------------------------------- test images ---
BUSYBOX_APPLETS=(
  sh ash httpd wget sleep cat echo env ls mkdir rm cp mv ln touch grep sed
  awk head tail wc sort uniq tr cut printf test true false id whoami hostname
  date ps kill nc netstat ip pwd basename dirname find xargs tee chmod chown
  stat du df uname timeout seq expr vi
)

# A FROM-scratch root folder for `docker import`, in a temp folder removed on exit: the folders every
# image has, a world-writable /tmp and busybox-static in /bin with the given applets linked to it.
# Sets ROOTFS (a global: a command substitution would lose the cleanup it registers).
ROOTFS=""
busybox_rootfs() {
  local name="$1" tmp a
  shift
  tmp="$(mktemp -d -t "homelab-$name.XXXXXX")"
  add_cleanup "rm -rf '$tmp'"
  ROOTFS="$tmp/rootfs"
  mkdir -p "$ROOTFS/bin" "$ROOTFS/etc" "$ROOTFS/proc" "$ROOTFS/sys" "$ROOTFS/dev" "$ROOTFS/root"
  mkdir -m 1777 "$ROOTFS/tmp"
  install -m 0755 /bin/busybox "$ROOTFS/bin/busybox"
  for a in "$@"; do ln -s busybox "$ROOTFS/bin/$a"; done
}

build_test_image() {
  local tag="$1" label="$2" root
  busybox_rootfs rootfs "${BUSYBOX_APPLETS[@]}"
  root="$ROOTFS"
  mkdir -p "$root/www"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf '<!doctype html><title>homelab-test</title><p>homelab-test busybox %s</p>\n' "$label" >"$root/www/index.html"
  printf 'ok %s\n' "$label" >"$root/www/healthz"
  printf '%s\n' "$label" >"$root/VERSION"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
    docker import \
      -c 'ENV PATH=/bin' \
      -c 'WORKDIR /' \
      -c 'CMD ["httpd","-f","-p","127.0.0.1:8080","-h","/www"]' \
      - "$tag" >/dev/null
  log "built $tag"
}

ensure_test_images() {
  [ -x /bin/busybox ] || die "/bin/busybox missing (package busybox-static)"
  # The rootfs has no libraries: busybox must be the static build.
  if ldd /bin/busybox >/dev/null 2>&1; then
    die "/bin/busybox is dynamically linked; the test images need busybox-static"
  fi
  local n
  for n in 1 2; do
    if [ "$REBUILD_IMAGES" = 1 ] || ! docker image inspect "$TEST_IMAGE:$n" >/dev/null 2>&1; then
      build_test_image "$TEST_IMAGE:$n" "v$n"
    fi
  done
}

# ----------------------------------------------------------- control plane ---
CONTROL_PLANE_BIN=""
ensure_control_plane() {
  local go_bin
  go_bin="$(go_command)" || die "Go not found (HOMELAB_GO, /usr/local/go/bin/go or on PATH): the Kubernetes API tests need the control plane built from source with Go >= 1.24"
  local t0=$SECONDS
  CONTROL_PLANE_BIN="$(HOMELAB_GO="$go_bin" bash "$(dirname "${BASH_SOURCE[0]}")/control-plane/build.sh")" ||
    die "building the Kubernetes control plane failed (scripts/control-plane/build.sh)"
  log "control plane ready in $((SECONDS - t0))s: $CONTROL_PLANE_BIN"
  # The catalog's CRDs, which the API tests install, from the same cache (needs `npm ci` first).
  if [ -x "$(dirname "${BASH_SOURCE[0]}")/../node_modules/.bin/tsx" ]; then
    (cd "$(dirname "${BASH_SOURCE[0]}")/.." && GO="$go_bin" node_modules/.bin/tsx scripts/crds/fetch.ts >/dev/null) ||
      die "fetching the catalog's CRDs failed (scripts/crds/fetch.ts)"
  else
    log "node_modules missing: run 'npm ci' first so the catalog's CRDs are fetched too (the API tests fetch them otherwise)"
  fi
}

# ------------------------------------------------------------ whoami image ---
# The README's demo app runs traefik/whoami:v1.10.4, an image built FROM scratch: one
# static binary, no shell, no wget. Test machines have no registry, so a stand-in of our
# own (scripts/test-images/whoami, standard library only, the same -port flag and
# WHOAMI_PORT_NUMBER variable) is built into a FROM-scratch image of that name. It binds
# 127.0.0.1, the test machines' rule for host networking. The label homelab-test records
# the source it was built from; an image of that name without it (a real pull) is left alone.
WHOAMI_IMAGE=traefik/whoami:v1.10.4
WHOAMI_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/test-images/whoami"
TEST_IMAGE_CACHE="${HOMELAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/homelab}/test-images"

go_command() {
  if [ -n "${HOMELAB_GO:-}" ]; then echo "$HOMELAB_GO"
  elif [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go
  elif command -v go >/dev/null 2>&1; then command -v go
  else return 1
  fi
}

ensure_whoami_image() {
  local sum label bin go tmp
  sum="$(cat "$WHOAMI_SRC/go.mod" "$WHOAMI_SRC/main.go" | sha256sum | cut -c1-16)"
  label="$(docker image inspect --format '{{ index .Config.Labels "homelab-test" }}' "$WHOAMI_IMAGE" 2>/dev/null || true)"
  if docker image inspect "$WHOAMI_IMAGE" >/dev/null 2>&1 && [ "${label%%-*}" != whoami ]; then
    log "$WHOAMI_IMAGE exists and is not our stand-in; leaving it alone"
    return
  fi
  if [ "$REBUILD_IMAGES" != 1 ] && [ "$label" = "whoami-$sum" ]; then return; fi
  bin="$TEST_IMAGE_CACHE/whoami-$sum"
  if [ ! -x "$bin" ]; then
    go="$(go_command)" || die "Go is missing: the $WHOAMI_IMAGE stand-in is built with it (set HOMELAB_GO or install Go)"
    mkdir -p "$TEST_IMAGE_CACHE"
    log "building the whoami stand-in with $go (a minute or two on a busy machine)"
    (cd "$WHOAMI_SRC" && CGO_ENABLED=0 GOOS=linux "$go" build -trimpath -ldflags='-s -w' -o "$bin.partial" .)
    mv "$bin.partial" "$bin"
  fi
  tmp="$(mktemp -d -t homelab-whoami.XXXXXX)"
  add_cleanup "rm -rf '$tmp'"
  install -m 0755 "$bin" "$tmp/whoami"
  tar --numeric-owner --owner=0 --group=0 -C "$tmp" -c whoami |
    docker import \
      -c "LABEL homelab-test=whoami-$sum" \
      -c 'ENV WHOAMI_LISTEN_HOST=127.0.0.1' \
      -c 'EXPOSE 80/tcp' \
      -c 'ENTRYPOINT ["/whoami"]' \
      - "$WHOAMI_IMAGE" >/dev/null
  log "built $WHOAMI_IMAGE (stand-in, FROM scratch)"
}

# -------------------------------------------------------- scheduler image ---
# On Compose, an app's cron services are started on their schedules by a `scheduler` service
# (docs/deploy.md, "Cron services"): busybox crond in a Docker CLI image, run as
# `crond -f -l 6` with the crontab at /etc/crontabs/root and the Docker socket mounted. Test
# machines have no registry, so the stand-in is built from this machine's busybox-static and
# docker CLI. busybox reads /var/spool/cron/crontabs by default; as in Alpine (the real image's
# base), that folder is a link to /etc/crontabs. The label homelab-test records what it was
# built from, so a new docker CLI or busybox rebuilds it.
SCHEDULER_IMAGE=homelab-test/docker-cli:1
SCHEDULER_APPLETS=(sh crond crontab cat echo date ls sleep test true env)

# The docker CLI to put in the image: the first static one on PATH, else the first one.
docker_cli_binary() {
  local candidate first=""
  while IFS= read -r candidate; do
    [ -x "$candidate" ] || continue
    candidate="$(readlink -f "$candidate")"
    [ -n "$first" ] || first="$candidate"
    if ! ldd "$candidate" >/dev/null 2>&1; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done < <(type -ap docker)
  [ -n "$first" ] || return 1
  printf '%s\n' "$first"
}

ensure_scheduler_image() {
  local cli sum label root lib
  cli="$(docker_cli_binary)" || die "no docker CLI on PATH for $SCHEDULER_IMAGE"
  sum="$(cat "$cli" /bin/busybox | sha256sum | cut -c1-16)"
  label="$(docker image inspect --format '{{ index .Config.Labels "homelab-test" }}' "$SCHEDULER_IMAGE" 2>/dev/null || true)"
  if [ "$REBUILD_IMAGES" != 1 ] && [ "$label" = "docker-cli-$sum" ]; then return; fi
  busybox_rootfs scheduler "${SCHEDULER_APPLETS[@]}"
  root="$ROOTFS"
  mkdir -p "$root/etc/crontabs" "$root/var/spool/cron"
  ln -s /etc/crontabs "$root/var/spool/cron/crontabs"
  install -m 0755 "$cli" "$root/bin/docker"
  if ldd "$cli" >/dev/null 2>&1; then
    # A dynamically linked CLI (Debian's docker.io): its libraries and loader go in too.
    log "$cli is dynamically linked: copying its libraries into $SCHEDULER_IMAGE"
    for lib in $(ldd "$cli" | grep -o '/[^ ]*'); do
      mkdir -p "$root$(dirname "$lib")"
      cp -L "$lib" "$root$lib"
    done
  fi
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
    docker import \
      -c "LABEL homelab-test=docker-cli-$sum" \
      -c 'ENV PATH=/bin' \
      -c 'WORKDIR /' \
      -c 'CMD ["crond","-f","-l","6"]' \
      - "$SCHEDULER_IMAGE" >/dev/null
  docker run --rm --network none --entrypoint docker "$SCHEDULER_IMAGE" --version >/dev/null ||
    die "$SCHEDULER_IMAGE was built but its docker CLI does not run"
  log "built $SCHEDULER_IMAGE (busybox crond + $cli)"
}

# After a rebuild, the image the new one replaced (by id, from before the import) is removed when
# nothing uses it any more, so rebuilds leave no dangling images behind.
remove_replaced_image() {
  local old="$1" tag="$2"
  [ -n "$old" ] || return 0
  [ "$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null)" != "$old" ] || return 0
  docker rmi "$old" >/dev/null 2>&1 || true
}

# ------------------------------------------------------------------ restic ---
# Both platforms' backups are restic repositories in VolSync's layout (docs/backup.md): VolSync v0.14's
# mover runs restic 0.18.0, and so do the Compose movers, in the official image restic/restic:0.18.0
# (Alpine: /bin/sh, ENTRYPOINT /usr/bin/restic). Test machines have no registry: restic is built from
# the Go module proxy into the cache (scripts/restic/build.sh; also used on the host by the tests that
# run VolSync's own mover script) and put in a FROM-scratch image of that name with busybox-static for
# the movers' POSIX sh scripts. The label homelab-test records what it was built from; an image of that
# name without it (a real pull) is left alone.
RESTIC_IMAGE=restic/restic:0.18.0
VOLSYNC_MODULE=github.com/backube/volsync@v0.14.0
RESTIC_BIN=""
RESTIC_APPLETS=(
  sh ash sha256sum find sort xargs cat mv mkdir rm date wc ls sed awk tr cut printf sleep test
  echo env grep head tail cp ln touch id basename dirname mktemp true false stat du expr tee
)

ensure_restic_image() {
  local go_bin sum label root replaced t0=$SECONDS
  go_bin="$(go_command)" || die "Go not found (HOMELAB_GO, /usr/local/go/bin/go or on PATH): restic is built from its Go module"
  RESTIC_BIN="$(HOMELAB_GO="$go_bin" bash "$(dirname "${BASH_SOURCE[0]}")/restic/build.sh")" ||
    die "building restic failed (scripts/restic/build.sh)"
  # VolSync's own mover script (mover-restic/entry.sh), which the format tests run with this restic:
  # fetched into Go's module cache now, so the tests need no network.
  (cd / && "$go_bin" mod download "$VOLSYNC_MODULE") || die "go mod download $VOLSYNC_MODULE failed"
  sum="$(printf '%s\n' "${RESTIC_APPLETS[*]}" | cat "$RESTIC_BIN" /bin/busybox - | sha256sum | cut -c1-16)"
  label="$(docker image inspect --format '{{ index .Config.Labels "homelab-test" }}' "$RESTIC_IMAGE" 2>/dev/null || true)"
  if docker image inspect "$RESTIC_IMAGE" >/dev/null 2>&1 && [ "${label%%-*}" != restic ]; then
    log "$RESTIC_IMAGE exists and is not our stand-in; leaving it alone"
    return
  fi
  if [ "$REBUILD_IMAGES" != 1 ] && [ "$label" = "restic-$sum" ]; then return; fi
  busybox_rootfs restic "${RESTIC_APPLETS[@]}"
  root="$ROOTFS"
  mkdir -p "$root/usr/bin" "$root/etc/ssl/certs"
  install -m 0755 "$RESTIC_BIN" "$root/usr/bin/restic"
  # For an s3 target over https, as the Alpine image's ca-certificates.
  [ ! -r /etc/ssl/certs/ca-certificates.crt ] || cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  replaced="$(docker image inspect --format '{{.Id}}' "$RESTIC_IMAGE" 2>/dev/null || true)"
  tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
    docker import \
      -c "LABEL homelab-test=restic-$sum" \
      -c 'ENV PATH=/usr/bin:/bin' \
      -c 'WORKDIR /' \
      -c 'ENTRYPOINT ["/usr/bin/restic"]' \
      - "$RESTIC_IMAGE" >/dev/null
  remove_replaced_image "$replaced" "$RESTIC_IMAGE"
  docker run --rm --network none "$RESTIC_IMAGE" version >/dev/null ||
    die "$RESTIC_IMAGE was built but 'restic version' does not run in it"
  log "built $RESTIC_IMAGE (FROM scratch: restic $RESTIC_BIN + busybox) in $((SECONDS - t0))s"
}

# ---------------------------------------------------------- postgres image ---
# homelab-test/postgres:15, the stand-in of the official postgres:15 image for apps whose volume holds a
# PostgreSQL data directory (backups as dumps, restores into a fresh server): Debian's PostgreSQL 15
# server and client binaries with every library ldd lists, its share files, the time zones and the C.UTF-8
# locale, busybox for /bin/sh, the user postgres (uid 999, as the official image) and an entrypoint that
# does what the official one does for POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB / PGDATA
# (scripts/test-images/postgres/docker-entrypoint.sh). The label homelab-test records what it was built
# from, so a new PostgreSQL package, busybox or entrypoint rebuilds it.
POSTGRES_IMAGE=homelab-test/postgres:15
POSTGRES_MAJOR=15
POSTGRES_ENTRYPOINT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/test-images/postgres/docker-entrypoint.sh"
POSTGRES_APPLETS=(sh ash su id cat chmod chown mkdir mktemp rm ls ln printf echo env sleep test true false grep sed awk)

ensure_postgres_image() {
  local pgbin="/usr/lib/postgresql/$POSTGRES_MAJOR" share="/usr/share/postgresql/$POSTGRES_MAJOR"
  local sum label root f lib replaced t0=$SECONDS
  # Debian 12 ships PostgreSQL 15; Debian 13 ships 17 and has no postgresql-15 package.
  [ -x "$pgbin/bin/postgres" ] || apt_install "postgresql-$POSTGRES_MAJOR" "postgresql-client-$POSTGRES_MAJOR" ||
    die "postgresql-$POSTGRES_MAJOR is not installable here (Debian $DEBIAN_CODENAME): $POSTGRES_IMAGE needs Debian 12's PostgreSQL $POSTGRES_MAJOR binaries"
  [ -x "$pgbin/bin/postgres" ] && [ -x "$pgbin/bin/psql" ] ||
    die "$pgbin/bin/postgres or psql missing: $POSTGRES_IMAGE needs Debian's postgresql-$POSTGRES_MAJOR and postgresql-client-$POSTGRES_MAJOR"
  sum="$({ dpkg-query -W -f '${Package} ${Version}\n' "postgresql-$POSTGRES_MAJOR" "postgresql-client-$POSTGRES_MAJOR" 2>/dev/null || true
    printf '%s locale-shim\n' "${POSTGRES_APPLETS[*]}"; } | cat - "$pgbin/bin/postgres" /bin/busybox "$POSTGRES_ENTRYPOINT" | sha256sum | cut -c1-16)"
  label="$(docker image inspect --format '{{ index .Config.Labels "homelab-test" }}' "$POSTGRES_IMAGE" 2>/dev/null || true)"
  if [ "$REBUILD_IMAGES" != 1 ] && [ "$label" = "postgres-$sum" ]; then return; fi
  busybox_rootfs postgres "${POSTGRES_APPLETS[@]}"
  root="$ROOTFS"
  mkdir -p "$root/usr/local/bin" "$root/usr/lib/postgresql" "$root/usr/share/postgresql" "$root/usr/lib/locale" \
    "$root/usr/share" "$root/var/lib/postgresql/data" "$root/var/run/postgresql" "$root/docker-entrypoint-initdb.d"
  # The server's extensions (lib/) go in too; LLVM bitcode only serves JIT, which the image leaves off.
  cp -a "$pgbin" "$root/usr/lib/postgresql/"
  rm -rf "$root$pgbin/lib/bitcode"
  cp -a "$share" "$root/usr/share/postgresql/"
  cp -a /usr/share/zoneinfo "$root/usr/share/"
  [ ! -d /usr/lib/locale/C.utf8 ] || cp -a /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"
  # Every shared library of every binary and extension, and the loader, at the same paths.
  for lib in $(for f in "$root$pgbin"/bin/* "$root$pgbin"/lib/*.so; do ldd "$f" 2>/dev/null || true; done |
    grep -o '/[^ ]*' | sort -u); do
    [ -e "$root$lib" ] && continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  install -m 0755 "$POSTGRES_ENTRYPOINT" "$root/usr/local/bin/docker-entrypoint.sh"
  # initdb asks `locale -a` for the collations to import; glibc's locale program is not in the image.
  printf '#!/bin/sh\n[ "${1:-}" = -a ] && printf "C\\nC.utf8\\nPOSIX\\n"\n' >"$root/usr/local/bin/locale"
  chmod 0755 "$root/usr/local/bin/locale"
  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\npostgres:x:999:\n' >"$root/etc/group"
  chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
  chmod 0700 "$root/var/lib/postgresql/data"
  chmod 3777 "$root/var/run/postgresql"
  replaced="$(docker image inspect --format '{{.Id}}' "$POSTGRES_IMAGE" 2>/dev/null || true)"
  tar --numeric-owner -C "$root" -c . |
    docker import \
      -c "LABEL homelab-test=postgres-$sum" \
      -c "ENV PATH=$pgbin/bin:/usr/local/bin:/bin" \
      -c 'ENV LANG=C.UTF-8' \
      -c 'ENV PGDATA=/var/lib/postgresql/data' \
      -c 'WORKDIR /' \
      -c 'EXPOSE 5432/tcp' \
      -c 'ENTRYPOINT ["docker-entrypoint.sh"]' \
      -c 'CMD ["postgres"]' \
      - "$POSTGRES_IMAGE" >/dev/null
  remove_replaced_image "$replaced" "$POSTGRES_IMAGE"
  docker run --rm --network none "$POSTGRES_IMAGE" postgres --version >/dev/null ||
    die "$POSTGRES_IMAGE was built but 'postgres --version' does not run in it"
  log "built $POSTGRES_IMAGE (Debian's PostgreSQL $POSTGRES_MAJOR + busybox) in $((SECONDS - t0))s"
}

# -------------------------------------------------------------- postgresql ---
# The per-app database provisioning is tested against a real server (tests/deploy/database.integration.test.ts):
# the tests run initdb and postgres from /usr/lib/postgresql/<major>/bin on a free port of 127.0.0.1. The
# package's own cluster is not started (policy-rc.d above keeps maintainer scripts from starting services).
ensure_postgresql() {
  apt_install postgresql
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || die "postgresql is installed but no /usr/lib/postgresql/<major>/bin/initdb was found"
}

# --------------------------------------------------------------- promtool ---
PROMTOOL_BIN=""
ensure_promtool() {
  local go_bin t0=$SECONDS
  go_bin="$(go_command)" || die "Go not found (HOMELAB_GO, /usr/local/go/bin/go or on PATH): promtool is built from Prometheus' Go module"
  PROMTOOL_BIN="$(HOMELAB_GO="$go_bin" bash "$(dirname "${BASH_SOURCE[0]}")/promtool/build.sh")" ||
    die "building promtool failed (scripts/promtool/build.sh)"
  log "promtool ready in $((SECONDS - t0))s: $PROMTOOL_BIN"
}

# ------------------------------------------------------------- kubeconform ---
# Optional: only the bench and the tests of its local schemas use it, so a machine without Go goes on without it.
KUBECONFORM_BIN=""
ensure_kubeconform() {
  local go_bin t0=$SECONDS
  if ! go_bin="$(go_command)"; then
    log "Go not found (HOMELAB_GO, /usr/local/go/bin/go or on PATH): skipping kubeconform (npm run bench:validate then reports homelab's figures only)"
    return 0
  fi
  KUBECONFORM_BIN="$(HOMELAB_GO="$go_bin" bash "$(dirname "${BASH_SOURCE[0]}")/kubeconform/build.sh")" ||
    die "building kubeconform failed (scripts/kubeconform/build.sh)"
  log "kubeconform ready in $((SECONDS - t0))s: $KUBECONFORM_BIN"
}

# --------------------------------------------------------- kustomize-batch ---
# Optional: validate uses it when it is built and falls back to `kubectl kustomize` otherwise.
KUSTOMIZE_BATCH_BIN=""
ensure_kustomize_batch() {
  local go_bin t0=$SECONDS
  if ! go_bin="$(go_command)"; then
    log "Go not found (HOMELAB_GO, /usr/local/go/bin/go or on PATH): skipping kustomize-batch (validate then builds overlays with kubectl kustomize)"
    return 0
  fi
  KUSTOMIZE_BATCH_BIN="$(HOMELAB_GO="$go_bin" bash "$(dirname "${BASH_SOURCE[0]}")/kustomize-batch/build.sh")" ||
    die "building kustomize-batch failed (scripts/kustomize-batch/build.sh)"
  log "kustomize-batch ready in $((SECONDS - t0))s: $KUSTOMIZE_BATCH_BIN"
}

# ----------------------------------------------------------------- renovate ---
# Node 24 and the pinned Renovate in npm's cache, for tests/renovate/ (scripts/renovate/prefetch.sh).
ensure_renovate() {
  local t0=$SECONDS
  bash "$(dirname "${BASH_SOURCE[0]}")/renovate/prefetch.sh" ||
    die "fetching Renovate failed (scripts/renovate/prefetch.sh)"
  log "renovate ready in $((SECONDS - t0))s"
}

# ----------------------------------------------------------------- chromium ---
# tests/status/html.e2e.test.ts opens the page of `homelab status --html` in headless Chromium
# (tests/support/chromium.ts finds it: HOMELAB_CHROMIUM, else chromium or chromium-browser on PATH).
# Debian 12 and 13 both ship it as `chromium`. Only this repository's tests need it: the users' CI
# (--engines-only) runs validate, build and deploy plans, never a browser, so it is skipped there.
CHROMIUM_VERSION=""
ensure_chromium() {
  local bin="${HOMELAB_CHROMIUM:-}"
  if [ -z "$bin" ]; then
    apt_install chromium
    hash -r
    bin="$(command -v chromium || command -v chromium-browser || true)"
    [ -n "$bin" ] || die "chromium not found on PATH after installing Debian's chromium package"
  fi
  # Debian's /usr/bin/chromium wrapper writes a shell warning to stderr on some machines: keep stdout only.
  CHROMIUM_VERSION="$("$bin" --version 2>/dev/null | head -n 1)" ||
    die "'$bin --version' failed; set HOMELAB_CHROMIUM to a working Chromium or remove it to use Debian's package"
  [ -n "$CHROMIUM_VERSION" ] || die "'$bin --version' printed nothing"
  CHROMIUM_VERSION="$CHROMIUM_VERSION ($bin)"
}

# ---------------------------------------------------------- test leftovers ---
# A test run that dies before its cleanup leaves its Compose networks behind, and an engine
# has room for about 30 bridge networks (the default address pools): then every new project
# fails with "could not find an available, non-overlapping IPv4 address pool". Only the test
# projects' networks (Compose project "hlt-...", see tests/deploy/support.ts) that no
# container uses are removed; nothing of anyone else's.
sweep_test_networks() {
  local ids=() id project
  while read -r id project; do
    case "$project" in hlt-*) ids+=("$id") ;; esac
  done < <(docker network ls --filter label=com.docker.compose.project --format '{{.ID}} {{.Label "com.docker.compose.project"}}')
  [ "${#ids[@]}" -gt 0 ] || return 0
  local removed=0
  for id in "${ids[@]}"; do
    if [ "$(docker network inspect -f '{{len .Containers}}' "$id" 2>/dev/null)" = 0 ] && docker network rm "$id" >/dev/null 2>&1; then
      removed=$((removed + 1))
    fi
  done
  log "removed $removed unused test network(s) left by earlier test runs"
}

# ----------------------------------------------------------------- summary ---
summary() {
  local kc kz server client
  kc="$(kubectl version --client 2>/dev/null | sed -n 's/^Client Version: *//p' | head -n 1)"
  kz="$(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: *//p' | head -n 1)"
  if [ -z "$kz" ] && command -v kustomize >/dev/null 2>&1; then
    kz="$(kustomize version 2>/dev/null | head -n 1) (standalone)"
  fi
  server="$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo '?')"
  client="$(docker version --format '{{.Client.Version}} (API {{.Client.APIVersion}})' 2>/dev/null || echo '?')"
  printf 'engines ready:\n'
  printf '  kubectl          %s\n' "${kc:-?}"
  printf '  kustomize        %s\n' "${kz:-built into kubectl}"
  printf '  docker engine    %s\n' "$server"
  printf '  docker client    %s (%s)\n' "$client" "$(command -v docker)"
  printf '  docker compose   %s\n' "$(compose_v2_version)"
  [ "$ENGINES_ONLY" = 1 ] || printf '  postgresql       %s\n' "$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tr '\n' ' ')"
  [ -z "$PROMTOOL_BIN" ] || printf '  promtool         %s\n' "$PROMTOOL_BIN"
  [ -z "$RESTIC_BIN" ] || printf '  restic           %s\n' "$RESTIC_BIN"
  [ -z "$KUBECONFORM_BIN" ] || printf '  kubeconform      %s\n' "$KUBECONFORM_BIN"
  [ -z "$CHROMIUM_VERSION" ] || printf '  chromium         %s\n' "$CHROMIUM_VERSION"
  [ -z "$KUSTOMIZE_BATCH_BIN" ] || printf '  kustomize-batch  %s\n' "$KUSTOMIZE_BATCH_BIN"
  [ -z "$CONTROL_PLANE_BIN" ] || printf '  control plane    %s (%s)\n' "$("$CONTROL_PLANE_BIN/kube-apiserver" --version 2>/dev/null | sed 's/^Kubernetes //')" "$CONTROL_PLANE_BIN"
  printf '  test images      %s\n' "$(docker image ls --format '{{.Repository}}:{{.Tag}}' "$TEST_IMAGE" | sort | tr '\n' ' ')$([ "$ENGINES_ONLY" = 1 ] || printf '%s %s %s %s' "$WHOAMI_IMAGE" "$SCHEDULER_IMAGE" "$RESTIC_IMAGE" "$POSTGRES_IMAGE")"
}

# -------------------------------------------------------------------- main ---
START=$SECONDS
ensure_kubectl
ensure_docker_packages
ensure_compose
ensure_dockerd
sweep_test_networks
ensure_test_images
if [ "$ENGINES_ONLY" = 0 ]; then
  ensure_control_plane
  ensure_whoami_image
  ensure_scheduler_image
  ensure_postgresql
  ensure_restic_image
  ensure_postgres_image
  ensure_promtool
  ensure_kubeconform
  ensure_kustomize_batch
  ensure_renovate
  ensure_chromium
fi
summary
log "done in $((SECONDS - START))s"
