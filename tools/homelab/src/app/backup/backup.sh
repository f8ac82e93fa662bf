# Takes one backup of the app now (docs/backup.md), in the scheduler's container: the Docker
# socket reaches the engine, each dump volume is mounted at /dumps/<volume>. The lines after these
# functions name the project, the dumps, the services to stop and the volumes.
set -u
failed=''
stopped=''
# error VOLUME TEXT: one line, and the volume counts as failed.
error() {
  echo "homelab-backup error $1: $2" >&2
  failed="$failed $1"
}
# The running containers of a service of a Compose project.
running() {
  docker ps -q --filter "label=com.docker.compose.project=$1" --filter "label=com.docker.compose.service=$2"
}
# dump VOLUME PROJECT SERVICE COMMAND: COMMAND (a pg_dump) in the service's running container,
# written to a temporary file and renamed to /dumps/VOLUME/dump.sql once it succeeded.
dump() {
  container=$(running "$2" "$3" | head -n 1)
  if [ -z "$container" ]; then
    error "$1" "no running container of $3 (project $2) to dump the database from; start it (docker compose -p $2 start $3)"
    return
  fi
  if docker exec "$container" sh -c "$4" > "/dumps/$1/dump.sql.tmp"; then
    mv "/dumps/$1/dump.sql.tmp" "/dumps/$1/dump.sql"
  else
    rm -f "/dumps/$1/dump.sql.tmp"
    error "$1" "the dump in $3 (project $2) failed (above); the volume was not backed up"
  fi
}
# stop SERVICE GRACE: stops its running containers while volumes are copied (started again on exit).
stop() {
  for container in $(running "$PROJECT" "$1"); do
    if docker stop -t "$2" "$container" > /dev/null; then stopped="$stopped $container"; else error "$1" "cannot stop $1 for the copy"; fi
  done
}
start_stopped() {
  for container in $stopped; do
    docker start "$container" > /dev/null || echo "homelab-backup error: cannot start $container again; docker compose -p $PROJECT up -d" >&2
  done
  stopped=''
}
trap start_stopped EXIT
trap 'start_stopped; exit 130' INT TERM
# move VOLUME: runs its mover once, unless its dump failed.
move() {
  case " $failed " in *" $1 "*) return ;; esac
  mover="$PROJECT-backup-$1-1"
  if ! before=$(docker inspect -f '{{.State.StartedAt}}' "$mover" 2> /dev/null); then
    error "$1" "its mover $mover does not exist; deploy the app (npx nx run $APP:deploy)"
    return
  fi
  # The mover's own error lines come after its run; Docker's, when it cannot start it, are kept for the message.
  # Its stdout goes on as it runs (fd 3); its stderr is kept in a variable, then printed.
  { err=$(docker start -a "$mover" 2>&1 1>&3); rc=$?; } 3>&1
  [ -z "$err" ] || printf '%s\n' "$err" >&2
  [ "$rc" -ne 0 ] || return
  if [ "$(docker inspect -f '{{.State.StartedAt}}' "$mover")" = "$before" ]; then
    why=$(printf '%s\n' "$err" | grep -v '^$' | tail -n 1 | sed 's/^Error response from daemon: //; s/^Error: //')
    error "$1" "its mover $mover did not start ($why); check homelab.yaml backup.target (the folder exists and is mounted)"
  else
    error "$1" "its mover $mover failed with exit $(docker inspect -f '{{.State.ExitCode}}' "$mover") (its error is above)"
  fi
}
# finish: starts what was stopped, then says how it went.
finish() {
  start_stopped
  if [ -n "$failed" ]; then
    echo "homelab-backup failed $PROJECT:$failed" >&2
    exit 1
  fi
  echo "homelab-backup done $PROJECT"
}
