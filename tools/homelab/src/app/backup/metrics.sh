# write_backup_metric: the last successful backup of HOMELAB_VOLUME, for node-exporter's textfile
# collector and the stale-backup alert (docs/backup.md, "The alert"). Writes
# /metrics/<HOMELAB_PROJECT>-<HOMELAB_VOLUME>.prom when /metrics (the shared volume
# homelab-backup-metrics) is mounted, through a temporary file node-exporter ignores (its name does
# not end in .prom) and a rename, so it never reads half a file. The label values are names homelab
# validated (lower-case letters, digits and '-'). A failure to write is one line on stderr and does
# not fail the backup: the alert then says it.
write_backup_metric() {
  [ -d /metrics ] || return 0
  metric_file="/metrics/${HOMELAB_PROJECT:-}-${HOMELAB_VOLUME:-}.prom"
  metric_tmp="${metric_file}.tmp.$$"
  {
    echo "# HELP homelab_backup_last_success_timestamp_seconds Unix time of the last successful backup of a volume."
    echo "# TYPE homelab_backup_last_success_timestamp_seconds gauge"
    echo "homelab_backup_last_success_timestamp_seconds{app=\"${HOMELAB_APP:-}\",env=\"${HOMELAB_ENV:-}\",volume=\"${HOMELAB_VOLUME:-}\"} $(date +%s)"
  } > "$metric_tmp" && mv -f "$metric_tmp" "$metric_file" || { rm -f "$metric_tmp"; echo "homelab-backup: could not write $metric_file" >&2; }
}
