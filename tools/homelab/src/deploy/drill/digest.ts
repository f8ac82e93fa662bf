import { shellWord, VOLUME_DIGEST_SH } from '../../app/steps/compose-backup';

/**
 * The digest of a volume's files, as the backup mover prints it after `restic backup`:
 * `volume_digest` of app/backup/digest.sh (the mover's own function, run here on the restored
 * scratch volume), so equal digests mean equal data. Prints one line:
 * `homelab-backup digest <V> sha256=<hex> files=<n> bytes=<n>`.
 */
export function digestScript(volume: string, dir = '/data'): string {
  return `${VOLUME_DIGEST_SH}echo "homelab-backup digest ${volume} $(volume_digest ${shellWord(dir)})"\n`;
}

export interface VolumeDigest {
  volume: string;
  sha256: string;
  files: number;
  bytes: number;
}

const DIGEST_LINE = /^homelab-backup digest (\S+) sha256=([0-9a-f]{64}) files=(\d+) bytes=(\d+)\s*$/;

/** The digest lines of a backup's (or the drill's) output, by volume; other lines are ignored. */
export function parseDigests(output: string): Map<string, VolumeDigest> {
  const digests = new Map<string, VolumeDigest>();
  for (const line of output.split('\n')) {
    const m = DIGEST_LINE.exec(line.trim());
    if (m) digests.set(m[1], { volume: m[1], sha256: m[2], files: Number(m[3]), bytes: Number(m[4]) });
  }
  return digests;
}

/** A table's rows in a dump (`<database>.<schema.table>` → rows). */
export type RowCounts = Map<string, number>;

/**
 * The rows of each table in a plain SQL dump of pg_dump or pg_dumpall: the lines of each
 * `COPY <table> (…) FROM stdin;` block up to its `\.`, per database (`\connect <db>` lines of
 * pg_dumpall; `database` before the first one).
 */
export function dumpRowCounts(sql: string, database = 'postgres'): RowCounts {
  const counts: RowCounts = new Map();
  let db = database;
  let table: string | null = null;
  let rows = 0;
  for (const line of sql.split('\n')) {
    if (table !== null) {
      if (line === '\\.') {
        counts.set(`${db}.${table}`, rows);
        table = null;
      } else rows++;
      continue;
    }
    const connect = /^\\connect\s+(?:-reuse-previous=on\s+)?(?:"dbname='?([^'"]+)'?"|"([^"]+)"|(\S+))/.exec(line);
    if (connect) {
      db = connect[1] ?? connect[2] ?? connect[3];
      continue;
    }
    const copy = /^COPY\s+(\S+)\s.*FROM stdin;$/.exec(line);
    if (copy) {
      table = copy[1];
      rows = 0;
    }
  }
  return counts;
}

/** Bytes in a few characters: `12.3 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}
