/**
 * How a Compose backup reports its success to Prometheus (docs/backup.md, "The alert"): after each
 * successful backup of a volume, its mover writes the time as a node-exporter textfile into one
 * Docker volume of the host, `homelab-backup-metrics`, which the monitoring component's
 * node-exporter reads (`--collector.textfile.directory`). The volume is external to every project:
 * deploy creates it when missing (deploy/shared-volumes.ts), as it creates the shared networks.
 */

/** The Docker volume of the host that holds the movers' textfiles (one per project and volume). */
export const BACKUP_METRICS_VOLUME = 'homelab-backup-metrics';

/** Where a mover mounts BACKUP_METRICS_VOLUME: it writes there when the folder exists. */
export const BACKUP_METRICS_MOUNT = '/metrics';

/** Where node-exporter mounts it, read-only, and reads every `*.prom` file. */
export const NODE_EXPORTER_TEXTFILE_DIR = '/var/lib/node-exporter/textfile';

/** The series: Unix time in seconds of the last successful backup, labels `app`, `env`, `volume`. */
export const BACKUP_METRIC = 'homelab_backup_last_success_timestamp_seconds';

/** The label deploy puts on a volume it creates (value: the volume's own name), as NETWORK_LABEL on networks. */
export const VOLUME_LABEL = 'homelab.volume';

/** The external volumes deploy creates when they are missing: BACKUP_METRICS_VOLUME alone (an app's own external volumes are the user's). */
export function managedVolume(name: string): boolean {
  return name === BACKUP_METRICS_VOLUME;
}

/**
 * The POSIX sh lines a mover runs after a successful `restic backup` (and its retention): when
 * BACKUP_METRICS_MOUNT is mounted, write `<project>-<volume>.prom` there, through a temporary file
 * node-exporter ignores (its name does not end in `.prom`) and a rename, so node-exporter never
 * reads half a file. Reads `HOMELAB_APP`, `HOMELAB_ENV`, `HOMELAB_PROJECT` and `HOMELAB_VOLUME`
 * from the mover's environment; label values are names homelab validated (lower-case letters,
 * digits and `-`), so they need no escaping. A failure to write is reported on stderr and does not
 * fail the backup (the alert then fires, which is the point).
 */
export const BACKUP_METRIC_SCRIPT = `# homelab: the last successful backup, for node-exporter's textfile collector (docs/backup.md, "The alert").
if [ -d ${BACKUP_METRICS_MOUNT} ]; then
  metric_file="${BACKUP_METRICS_MOUNT}/\${HOMELAB_PROJECT}-\${HOMELAB_VOLUME}.prom"
  metric_tmp="\${metric_file}.tmp.$$"
  {
    echo "# HELP ${BACKUP_METRIC} Unix time of the last successful backup of a volume."
    echo "# TYPE ${BACKUP_METRIC} gauge"
    echo "${BACKUP_METRIC}{app=\\"\${HOMELAB_APP}\\",env=\\"\${HOMELAB_ENV}\\",volume=\\"\${HOMELAB_VOLUME}\\"} $(date +%s)"
  } > "\${metric_tmp}" && mv -f "\${metric_tmp}" "\${metric_file}" || { rm -f "\${metric_tmp}"; echo "homelab-backup: could not write \${metric_file}" >&2; }
fi
`;
