import type { StatusReport, StatusRow } from './types';

/** `--format json`: the report as it is (types.ts). */
export function formatStatusJson(report: StatusReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const HEADERS = ['PROJECT', 'ENV', 'PLATFORM', 'WANTED', 'RUNNING', 'HEALTH', 'DRIFT', 'LAST DEPLOY', 'BACKUP'];

/**
 * `--format table`: one line per row (project, environment, platform, the version git wants and
 * the one running, health, the number of drifts, the last deploy's age and short commit, the last
 * backup's age), then one indented line per problem, and a closing line.
 * @example formatStatusTable(report, new Date()) // "PROJECT  ENV  PLATFORM …\nwhoami   dev  compose  …"
 */
export function formatStatusTable(report: StatusReport, now: Date = new Date(report.generatedAt)): string {
  if (report.rows.length === 0) return 'no project has files for these environments\n';
  const cells = report.rows.map((r) => rowCells(r, now));
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(HEADERS)];
  report.rows.forEach((r, i) => {
    out.push(line(cells[i]));
    for (const p of r.problems) out.push(`    ${p}`);
  });
  const bad = report.rows.filter((r) => !r.ok).length;
  out.push('');
  out.push(bad === 0 ? `ok: ${report.rows.length} row(s) healthy and in step, or not deployed` : `not ok: ${bad} of ${report.rows.length} row(s) have problems`);
  return `${out.join('\n')}\n`;
}

function rowCells(r: StatusRow, now: Date): string[] {
  const deploy = r.lastDeploy ? `${age(r.lastDeploy.at, now)} ago ${r.lastDeploy.commit ? r.lastDeploy.commit.slice(0, 7) : r.lastDeploy.dirty ? 'dirty' : 'no commit'}` : '-';
  const backup = r.lastBackup ? (r.lastBackup.at ? `${age(r.lastBackup.at, now)} ago${r.lastBackup.healthy ? '' : ' (stale)'}` : 'never') : '-';
  return [
    r.project,
    r.environment,
    r.platform,
    r.wantedVersion ?? '-',
    r.runningVersion ?? '-',
    r.health === 'not-deployed' ? 'not deployed' : r.health,
    r.drift.length > 0 ? String(r.drift.length) : '-',
    deploy,
    backup,
  ];
}

/** How long ago, in the largest whole unit: 3d, 5h, 12m, 40s. */
export function age(at: string, now: Date): string {
  const seconds = Math.max(0, Math.round((now.getTime() - new Date(at).getTime()) / 1000));
  if (seconds >= 86400) return `${Math.floor(seconds / 86400)}d`;
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m`;
  return `${seconds}s`;
}

/** Why `homelab status` exits 1: each problem of each row that is not ok, one line. */
export function statusReasons(report: StatusReport): string[] {
  return report.rows.filter((r) => !r.ok).flatMap((r) => (r.problems.length > 0 ? r.problems : ['not ok']).map((p) => `${r.project} (${r.environment}): ${p}`));
}
