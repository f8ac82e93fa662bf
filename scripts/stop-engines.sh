#!/usr/bin/env bash
# Stop the dockerd that scripts/setup-engines.sh started (found via its pid
# file). Leaves any dockerd it did not start alone. dockerd stops its running
# containers on shutdown; pass --rm-containers to remove them first (faster
# when containers ignore SIGTERM).
set -euo pipefail

DOCKERD_PIDFILE="${HOMELAB_DOCKERD_PIDFILE:-/run/homelab-dockerd.pid}"
STOP_WAIT="${HOMELAB_DOCKERD_STOP_WAIT:-30}"

log() { printf '[stop-engines] %s\n' "$*" >&2; }

if [ ! -s "$DOCKERD_PIDFILE" ]; then
  log "no pid file $DOCKERD_PIDFILE: nothing to stop"
  exit 0
fi
# A live dockerd (not a zombie left by a kill whose parent never reaped it).
dockerd_alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  case "$stat" in
    *"(dockerd) "[ZX]*) return 1 ;;
    *"(dockerd) "*) return 0 ;;
    *) return 1 ;;
  esac
}

pid="$(cat "$DOCKERD_PIDFILE")"
if ! dockerd_alive "$pid"; then
  log "no live dockerd with pid $pid; removing stale pid file"
  rm -f "$DOCKERD_PIDFILE"
  exit 0
fi

if [ "${1:-}" = --rm-containers ]; then
  ids="$(timeout 10 docker ps -aq 2>/dev/null || true)"
  if [ -n "$ids" ]; then
    log "removing containers"
    # shellcheck disable=SC2086
    docker rm -f $ids >/dev/null || true
  fi
fi

log "stopping dockerd (pid $pid)"
kill -TERM "$pid"
for ((i = 0; i < STOP_WAIT; i++)); do
  dockerd_alive "$pid" || break
  sleep 1
done
if dockerd_alive "$pid"; then
  log "dockerd still running after ${STOP_WAIT}s; sending SIGKILL"
  kill -KILL "$pid" || true
fi
rm -f "$DOCKERD_PIDFILE"
log "stopped"
