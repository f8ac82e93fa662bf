import * as fs from 'node:fs';
import * as path from 'node:path';
import { HomelabError, InputError, show } from '../errors';
import type { Drift, Health, LastBackup, LastDeploy, StatusReport, StatusRow } from './types';

/**
 * The status page of `homelab status --html FILE`: one static HTML file that reads the same from
 * a file:// URL, a web server or an attachment. Inline CSS only; no script, no font, no image, no
 * URL of any kind (a Content-Security-Policy of `default-src 'none'` says so to the browser too).
 * Light and dark follow `prefers-color-scheme`; under 48rem wide each row becomes a card.
 *
 * Every value of the report is HTML-escaped: a project or a problem with `<script>` in it shows as
 * text. Pure: the same report gives the same bytes (times are shown in UTC, ages relative to
 * `generatedAt`, never to the clock).
 *
 * @example
 * fs.writeFileSync('status.html', renderStatusHtml(report));
 */
export function renderStatusHtml(report: StatusReport): string {
  const now = Date.parse(report.generatedAt);
  const notOk = report.rows.filter((r) => !r.ok);
  const title = report.ok ? 'homelab status: all ok' : `homelab status: ${notOk.length} not ok`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>homelab status</h1>
<p class="meta">Generated ${time(report.generatedAt)}; ${report.commit ? `wanted versions as of commit ${commit(report.commit, '')}` : 'wanted versions from a workspace outside git'}</p>
</header>
${summary(report, notOk)}
${environmentsOf(report)
  .map((env) => section(env, report.rows.filter((r) => r.environment === env), now))
  .join('\n')}
</body>
</html>
`;
}

/**
 * The page file of `--html FILE`, resolved against `cwd`: its folder must exist and the path must
 * not be a folder, else a one-line InputError naming it. `homelab status` calls it before reading
 * the platforms, so a wrong path fails at once; writeStatusHtml checks again.
 */
export function statusHtmlTarget(file: string, cwd: string = process.cwd()): string {
  const target = path.resolve(cwd, file);
  const dir = path.dirname(target);
  if (!isDirectory(dir)) {
    throw new InputError(`--html ${show(file)}: the folder ${show(dir)} does not exist; create it first or write the page elsewhere`);
  }
  if (isDirectory(target)) {
    throw new InputError(`--html ${show(file)} is a folder; give the path of the page to write, e.g. ${show(path.join(file, 'status.html'))}`);
  }
  return target;
}

/**
 * Writes the status page to `file` atomically (a temporary file beside it, then a rename), so a
 * page served or synced from there is never half written. The folder must exist: otherwise a
 * one-line error names it, and nothing is written.
 *
 * @example
 * // homelab status --html FILE, after reading the report:
 * writeStatusHtml(report, statusHtmlTarget(options.html, io.cwd));
 */
export function writeStatusHtml(report: StatusReport, file: string): void {
  const target = statusHtmlTarget(file);
  const html = renderStatusHtml(report);
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(temp, html, { mode: 0o644 });
    fs.renameSync(temp, target);
  } catch (error) {
    try {
      fs.rmSync(temp, { force: true });
    } catch {
      // Not a file this write made (a folder of that name): left alone.
    }
    throw new HomelabError(`--html ${show(file)}: could not write the page (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check that the folder is writable`);
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The words the page shows for each health: always a word beside the colour. */
const HEALTH_WORD: Record<Health, string> = {
  healthy: 'healthy',
  starting: 'starting',
  unhealthy: 'unhealthy',
  stopped: 'stopped',
  'not-deployed': 'not deployed',
  unknown: 'unknown',
};

/** The environments in the report's order, then any a row names that the list lacks. */
function environmentsOf(report: StatusReport): string[] {
  const envs = [...report.environments];
  for (const r of report.rows) if (!envs.includes(r.environment)) envs.push(r.environment);
  return envs;
}

/** The rows not ok the summary lists by name; the rest are counted (a host that cannot be reached fails every row of it). */
const SUMMARY_ROWS = 20;

function summary(report: StatusReport, notOk: StatusRow[]): string {
  const deployed = report.rows.filter((r) => r.deployed).length;
  const notDeployed = report.rows.length - deployed;
  const counts = `${plural(deployed, 'deployed row')}${notDeployed ? `, ${notDeployed} not deployed` : ''}`;
  if (report.ok) {
    const head = report.rows.length === 0 ? 'All ok: the report has no projects' : `All ok: every deployed project is healthy and in step (${counts})`;
    return `<section class="summary ok" aria-label="summary"><p><span class="mark">ok</span> ${esc(head)}</p></section>`;
  }
  const items = notOk.slice(0, SUMMARY_ROWS).map(
    (r) =>
      `<li><strong>${esc(r.project)}</strong> in <strong>${esc(r.environment)}</strong> (${esc(r.platform)}): ${r.problems.length ? r.problems.map(esc).join('; ') : esc(HEALTH_WORD[r.health] ?? r.health)}</li>`,
  );
  if (notOk.length > SUMMARY_ROWS) items.push(`<li>and ${notOk.length - SUMMARY_ROWS} more, marked in the tables below</li>`);
  const head = `Not ok: ${notOk.length} of ${plural(report.rows.length, 'row')} need attention (${counts})`;
  return `<section class="summary bad" aria-label="summary"><p><span class="mark">not ok</span> ${esc(head)}</p>${items.length ? `<ul>${items.join('')}</ul>` : ''}</section>`;
}

const COLUMNS = ['Project', 'Platform', 'Wanted', 'Running', 'Health', 'Drift', 'Last deploy', 'Last backup', 'ArgoCD', 'Problems'] as const;

function section(env: string, rows: StatusRow[], now: number): string {
  const bad = rows.filter((r) => !r.ok).length;
  const state = rows.length === 0 ? 'nothing reported' : bad ? `${bad} of ${plural(rows.length, 'row')} not ok` : `all ${plural(rows.length, 'row')} ok`;
  const body = rows.length
    ? `<table>
<thead><tr>${COLUMNS.map((c) => `<th scope="col">${c}</th>`).join('')}</tr></thead>
<tbody>
${rows.map((r) => row(r, now)).join('\n')}
</tbody>
</table>`
    : '<p class="empty">No project in this environment.</p>';
  return `<section class="env">
<h2>${esc(env)} <span class="count">${esc(state)}</span></h2>
${body}
</section>`;
}

function row(r: StatusRow, now: number): string {
  const cells: Record<(typeof COLUMNS)[number], string> = {
    Project: `<strong>${esc(r.project)}</strong>${r.layer === 'infrastructure' ? ' <span class="muted">infrastructure</span>' : ''}${r.ok ? '' : ` ${badge('h-unhealthy', 'not ok')}`}`,
    Platform: esc(r.platform),
    Wanted: version(r.wantedVersion),
    Running: version(r.runningVersion) + (r.deployed && r.runningVersion !== null && r.wantedVersion !== null && r.runningVersion !== r.wantedVersion ? ' <span class="warn-text">differs</span>' : ''),
    Health: `${badge(`h-${r.health}`, HEALTH_WORD[r.health] ?? r.health)}${services(r)}`,
    Drift: drift(r.drift),
    'Last deploy': lastDeploy(r.lastDeploy, now),
    'Last backup': lastBackup(r.lastBackup, now),
    ArgoCD: argocd(r.argocd),
    Problems: r.problems.length ? `<ul class="problems">${r.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>` : '<span class="muted">none</span>',
  };
  return `<tr class="${r.ok ? 'row-ok' : 'row-bad'}">${COLUMNS.map((c) => `<td data-label="${c}"><div>${cells[c]}</div></td>`).join('')}</tr>`;
}

function services(r: StatusRow): string {
  if (r.services.length === 0) return '';
  const items = r.services.map(
    (s) =>
      `<li>${esc(s.name)}: ${esc(HEALTH_WORD[s.health] ?? s.health)}, ${esc(s.state)}${s.restarts ? `, ${plural(s.restarts, 'restart')}` : ''}${s.runningImage ? ` <code>${esc(s.runningImage)}</code>` : ''}</li>`,
  );
  return `<details><summary>${plural(r.services.length, 'service')}</summary><ul>${items.join('')}</ul></details>`;
}

function drift(items: Drift[]): string {
  if (items.length === 0) return '<span class="muted">none</span>';
  const list = items.map(
    (d) =>
      `<li>${d.service ? `${esc(d.service)}: ` : ''}${esc(d.what)}: wanted <code>${esc(d.wanted)}</code>, running <code>${esc(d.running)}</code></li>`,
  );
  return `${badge('warn', plural(items.length, 'difference'))}<details><summary>what differs</summary><ul>${list.join('')}</ul></details>`;
}

function lastDeploy(d: LastDeploy | null, now: number): string {
  if (!d) return '<span class="muted">never</span>';
  const from = d.commit ? `commit ${commit(d.commit, '')}` : '<span class="muted">no commit</span>';
  return `${time(d.at)}${age(d.at, now)}<br>${from}${d.dirty ? ' <span class="warn-text">with uncommitted changes</span>' : ''}`;
}

function lastBackup(b: LastBackup | null, now: number): string {
  if (!b) return '<span class="muted">no backup</span>';
  const when = b.at ? `${time(b.at)}${age(b.at, now)}` : 'never';
  return `${b.healthy ? badge('h-healthy', 'fresh') : badge('h-unhealthy', 'stale')} ${when}<br><span class="muted">schedule <code>${esc(b.schedule)}</code></span>`;
}

function argocd(a: StatusRow['argocd']): string {
  if (!a) return '<span class="muted">—</span>';
  const sync = badge(a.sync === 'Synced' ? 'h-healthy' : 'warn', a.sync);
  const health = badge(a.health === 'Healthy' ? 'h-healthy' : a.health === 'Progressing' ? 'h-starting' : 'h-unhealthy', a.health);
  return `${sync} ${health}<br><span class="muted">${esc(a.application)}</span>`;
}

/** A version as the report has it; a digest cut to its first 12 hex digits (the whole of it in the title). */
function version(v: string | null): string {
  if (v === null) return '<span class="muted">—</span>';
  const digest = /^(sha256:[0-9a-f]{12})[0-9a-f]{52}$/.exec(v);
  return digest ? `<code title="${esc(v)}">${digest[1]}…</code>` : `<code>${esc(v)}</code>`;
}

function badge(kind: string, word: string): string {
  return `<span class="badge ${kind}">${esc(word)}</span>`;
}

function commit(sha: string | null, none: string): string {
  if (!sha) return `<span class="muted">${esc(none)}</span>`;
  return `<code title="${esc(sha)}">${esc(sha.slice(0, 7))}</code>`;
}

/** An ISO time as `YYYY-MM-DD HH:MM UTC`, in a <time> element; the text as it is when it is not a time. */
function time(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return esc(iso);
  const shown = new Date(t).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  return `<time datetime="${esc(new Date(t).toISOString())}">${shown}</time>`;
}

/** How long before the report a time was, in the largest whole unit. */
function age(iso: string, now: number): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t) || Number.isNaN(now) || t > now) return '';
  const minutes = Math.floor((now - t) / 60_000);
  const text = minutes < 1 ? 'just now' : minutes < 60 ? `${minutes} min ago` : minutes < 48 * 60 ? `${Math.floor(minutes / 60)} h ago` : `${Math.floor(minutes / 1440)} d ago`;
  return ` <span class="muted">(${text})</span>`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** HTML-escapes text for element content and double-quoted attribute values. */
export function esc(text: string): string {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/*
 * Colours: each health has a colour and always its word. Light by default, dark under
 * prefers-color-scheme: dark; both keep text at WCAG AA contrast on its badge.
 */
const CSS = `
:root{--bg:#ffffff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--head:#f6f8fa;--bad-row:#fff5f5;
--ok-bg:#dafbe1;--ok-fg:#116329;--warn-bg:#fff1c2;--warn-fg:#7a4b00;--bad-bg:#ffe1e1;--bad-fg:#a40e26;
--off-bg:#eaeef2;--off-fg:#424a53;--start-bg:#ddf4ff;--start-fg:#0a4a8f;--unk-bg:#f3e8ff;--unk-fg:#6224a8}
@media (prefers-color-scheme: dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--head:#161b22;--bad-row:#1f1215;
--ok-bg:#12361f;--ok-fg:#7ee2a0;--warn-bg:#3a2a05;--warn-fg:#f2cc60;--bad-bg:#4a1118;--bad-fg:#ffa3ad;
--off-bg:#262c33;--off-fg:#c9d1d9;--start-bg:#0c2d4a;--start-fg:#8cc8ff;--unk-bg:#2e1a47;--unk-fg:#d2b3ff}}
*{box-sizing:border-box}
body{margin:0;padding:1rem;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:1.4rem;margin:0 0 .25rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.count{font-weight:normal;color:var(--muted);font-size:.9rem;margin-left:.5rem}
.meta,.muted,.empty{color:var(--muted)}
.summary{border:1px solid var(--line);border-left-width:6px;border-radius:6px;padding:.5rem .75rem;margin:1rem 0}
.summary.ok{border-left-color:var(--ok-fg)}
.summary.bad{border-left-color:var(--bad-fg)}
.summary p{margin:.25rem 0;font-weight:600}
.summary ul{margin:.25rem 0;padding-left:1.25rem}
.mark{display:inline-block;padding:0 .5rem;border-radius:999px;font-weight:700}
.summary.ok .mark{background:var(--ok-bg);color:var(--ok-fg)}
.summary.bad .mark{background:var(--bad-bg);color:var(--bad-fg)}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:var(--head);font-weight:600;white-space:nowrap}
tr.row-bad td:first-child{box-shadow:inset 4px 0 0 var(--bad-fg)}
tr.row-bad{background:var(--bad-row)}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
td{overflow-wrap:anywhere}
td[data-label="Platform"]{white-space:nowrap}
td[data-label="Problems"]{min-width:16rem}
time{white-space:nowrap}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-weight:600;font-size:.85rem;white-space:nowrap}
.h-healthy{background:var(--ok-bg);color:var(--ok-fg)}
.h-starting{background:var(--start-bg);color:var(--start-fg)}
.h-unhealthy{background:var(--bad-bg);color:var(--bad-fg)}
.h-stopped{background:var(--bad-bg);color:var(--bad-fg)}
.h-not-deployed{background:var(--off-bg);color:var(--off-fg)}
.h-unknown{background:var(--unk-bg);color:var(--unk-fg)}
.warn{background:var(--warn-bg);color:var(--warn-fg)}
.warn-text{color:var(--warn-fg);font-weight:600}
details{margin-top:.2rem}
summary{cursor:pointer;color:var(--muted)}
details ul,ul.problems{margin:.2rem 0;padding-left:1.1rem}
@media (max-width:48rem){
body{padding:.5rem}
table,thead,tbody,tr,td{display:block;width:100%}
thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
tr{border:1px solid var(--line);border-radius:6px;margin:0 0 .75rem;padding:.25rem 0}
tr.row-bad{border-left:6px solid var(--bad-fg)}
tr.row-bad td:first-child{box-shadow:none}
td{border:none;padding:.2rem .6rem;display:grid;grid-template-columns:7.5rem 1fr;gap:.5rem}
td::before{content:attr(data-label);font-weight:600;color:var(--muted)}
}
`;
