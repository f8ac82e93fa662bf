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

/** The Compose Prometheus' scrape job of node-exporter, through which the movers' series arrive. */
export const NODE_EXPORTER_JOB = 'node-exporter';

/** Where node-exporter mounts it, read-only, and reads every `*.prom` file. */
export const NODE_EXPORTER_TEXTFILE_DIR = '/var/lib/node-exporter/textfile';

/** The series: Unix time in seconds of the last successful backup, labels `app`, `env`, `volume` (written by app/backup/metrics.sh). */
export const BACKUP_METRIC = 'homelab_backup_last_success_timestamp_seconds';

/** The label deploy puts on a volume it creates (value: the volume's own name), as NETWORK_LABEL on networks. */
export const VOLUME_LABEL = 'homelab.volume';

/** The external volumes deploy creates when they are missing: BACKUP_METRICS_VOLUME alone (an app's own external volumes are the user's). */
export function managedVolume(name: string): boolean {
  return name === BACKUP_METRICS_VOLUME;
}
