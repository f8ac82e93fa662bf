#!/bin/sh
# Entrypoint of homelab-test/postgres:15, the test machines' stand-in of the official postgres:15 image
# (Debian's PostgreSQL 15 binaries, busybox for the shell). It does what the official entrypoint does for
# the cases homelab uses:
#   - PGDATA (default /var/lib/postgresql/data) is initialised on the first run with initdb: superuser
#     POSTGRES_USER (default postgres) with the password POSTGRES_PASSWORD (scram-sha-256), extra
#     POSTGRES_INITDB_ARGS, the database POSTGRES_DB (default: the user's name) created, then
#     /docker-entrypoint-initdb.d/*.sh and *.sql run once;
#   - TCP connections need the password (POSTGRES_HOST_AUTH_METHOD, default scram-sha-256); the Unix
#     socket is trusted, so `docker exec <container> pg_dumpall -U <user>` works as with the official image;
#   - the server listens on POSTGRES_LISTEN (default '*'; the tests bind 127.0.0.1 under host networking)
#     and on PGPORT (default 5432), both read by postgres and psql themselves;
#   - it runs as the user postgres (uid 999, as the official image), after fixing the ownership of PGDATA
#     when started as root.
# One difference: the official image trusts TCP from 127.0.0.1 (initdb's default); with host networking
# that would trust every local user of the machine, so here only the socket is trusted.
set -eu

: "${PGDATA:=/var/lib/postgresql/data}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
: "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
export PGDATA POSTGRES_USER POSTGRES_DB POSTGRES_HOST_AUTH_METHOD

fail() { printf 'docker-entrypoint: %s\n' "$*" >&2; exit 1; }

# `docker run image -c key=value` runs postgres with those options, as in the official image.
case "${1:-postgres}" in -*) set -- postgres "$@" ;; esac
[ "$#" -gt 0 ] || set -- postgres

if [ "$1" != postgres ]; then exec "$@"; fi
# `postgres --version`, `--help`, `-C name`, … answer without a data directory, as in the official image.
for arg in "$@"; do
  case "$arg" in -'?' | --help | --describe-config | -C | --version | -V) exec "$@" ;; esac
done

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  # Drop to uid 999 and run this script again with the same arguments and environment.
  # `--` keeps su from reading the server's own options (-c name=value) as its own.
  exec su -p -s /bin/sh -c 'exec "$0" "$@"' -- postgres "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    fail "the database is uninitialized and POSTGRES_PASSWORD is not set; set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)"
  fi
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of options, as in the official image
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
    --auth-host="$POSTGRES_HOST_AUTH_METHOD" ${POSTGRES_INITDB_ARGS:-} >/dev/null
  rm -f "$pwfile"
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"

  # A temporary server on the socket only, for the database and the init scripts.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  if [ "$POSTGRES_DB" != postgres ]; then
    # psql quotes the name (:"db"); it interpolates variables in scripts, not in -c.
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres --set db="$POSTGRES_DB" <<'SQL' >/dev/null
CREATE DATABASE :"db";
SQL
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
      *.sh) printf 'docker-entrypoint: running %s\n' "$f" >&2; . "$f" ;;
      *.sql) printf 'docker-entrypoint: running %s\n' "$f" >&2
        psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f "$f" >/dev/null ;;
      *) printf 'docker-entrypoint: ignoring %s\n' "$f" >&2 ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  printf 'docker-entrypoint: PostgreSQL init process complete; ready for start up.\n' >&2
fi

shift
# The official image stops with SIGINT (STOPSIGNAL: PostgreSQL's fast shutdown; SIGTERM is the smart one,
# which waits for every client to leave). An imported image cannot carry STOPSIGNAL, so this shell stays
# PID 1 and turns the engine's SIGTERM into SIGINT.
postgres -c listen_addresses="${POSTGRES_LISTEN:-*}" "$@" &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null' TERM INT
rc=0
wait "$pid" || rc=$?
while kill -0 "$pid" 2>/dev/null; do
  rc=0
  wait "$pid" || rc=$?
done
exit "$rc"
