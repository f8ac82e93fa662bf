# The backup mover of one volume (docs/backup.md): VolSync's restic mover (mover-restic/entry.sh of
# VolSync v0.14.0) in POSIX sh, so a repository written here restores there, and back. Compose runs
# it as the service backup-<volume> (`docker start -a <project>-backup-<volume>-1`) with the volume
# at DATA_DIR (/data) and RESTIC_REPOSITORY, RESTIC_PASSWORD (the env file), RESTIC_HOST=volsync,
# RESTIC_CACHE_DIR, FORGET_OPTIONS and HOMELAB_VOLUME in its environment. It prints
# `homelab-backup digest <volume> sha256=<hex> files=<n> bytes=<n>` after the snapshot, and on a
# failure one line `homelab-backup error <volume>: <what>; <fix>` and a non-zero exit:
# 2 a setting is missing, 3 the repository is unreachable, 11 it is locked, 12 the password is wrong.
set -u
volume=${HOMELAB_VOLUME:-volume}
fail() {
  echo "homelab-backup error $volume: $2" >&2
  exit "$1"
}
for var in RESTIC_REPOSITORY RESTIC_PASSWORD DATA_DIR RESTIC_CACHE_DIR; do
  eval "value=\${$var:-}"
  [ -n "$value" ] || fail 2 "$var is empty; deploy writes it from the secret store (RESTIC_PASSWORD: homelab.yaml backup.repositoryKey, property password), or set it in the env file of the Compose project"
done
cd "$DATA_DIR" || fail 2 "$DATA_DIR is not mounted; run the build target again"
[ "$#" -eq 0 ] || [ "$1" = backup ] || fail 2 "unknown operation $1; the mover only backs up (restore: docs/backup.md)"
# An empty volume (a new app) is skipped and counts as done, as VolSync's check_contents does: restic
# refuses an empty snapshot, and a first backup that fails every night would only be noise.
if [ -z "$(ls -A "$DATA_DIR" | grep -v '^lost+found$')" ]; then
  echo "homelab-backup empty $volume: nothing to back up yet, no snapshot taken"
  echo "homelab-backup digest $volume $(volume_digest "$DATA_DIR")"
  write_backup_metric
  echo "homelab-backup done $volume"
  exit 0
fi
# Ensure the repository is initialized (restic exit codes since 0.17: 10 none there, 11 locked, 12 wrong password).
out=$(restic cat config 2>&1 >/dev/null)
rc=$?
reason=$(printf '%s\n' "$out" | grep -v '^$' | tail -n 1)
case $rc in
  0) ;;
  10) init=$(restic init 2>&1 > /dev/null) || fail 3 "cannot create the repository $RESTIC_REPOSITORY: $(printf '%s\n' "$init" | grep -v '^$' | tail -n 1); check homelab.yaml backup.target and that it is writable" ;;
  11) fail 11 "the repository $RESTIC_REPOSITORY is locked by another restic ($reason); wait for it, or run restic unlock once nothing else uses it" ;;
  12) fail 12 "wrong password for the repository $RESTIC_REPOSITORY; set the store's RESTIC_PASSWORD (homelab.yaml backup.repositoryKey) back to the password the repository was created with" ;;
  *)
    case $out in
      *"Is there a repository at the following location"*) restic init > /dev/null 2>&1 || fail 3 "cannot create the repository $RESTIC_REPOSITORY; check homelab.yaml backup.target" ;;
      *) fail 3 "the repository $RESTIC_REPOSITORY is unreachable ($reason); check homelab.yaml backup.target (mounted, reachable, writable)" ;;
    esac
    ;;
esac
restic backup --host "${RESTIC_HOST:-volsync}" --exclude=lost+found . || fail 1 "restic backup of $DATA_DIR failed (exit $?, above); nothing was forgotten or pruned"
echo "homelab-backup digest $volume $(volume_digest "$DATA_DIR")"
# Retention as VolSync keeps it: forget by the keep flags, then prune what no snapshot holds.
if [ -n "${FORGET_OPTIONS:-}" ]; then
  # shellcheck disable=SC2086
  restic forget --host "${RESTIC_HOST:-volsync}" $FORGET_OPTIONS > /dev/null || fail 1 "restic forget failed (exit $?, above); the snapshot was taken"
  restic prune > /dev/null || fail 1 "restic prune failed (exit $?, above); the snapshot was taken"
fi
# The last success, for the stale-backup alert (metrics.sh), where /metrics is mounted.
write_backup_metric
echo "homelab-backup done $volume"
