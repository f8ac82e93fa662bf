import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HOSTILE, mixedReport, okReport, report, row } from '../../../../tests/support/status-reports';
import { InputError } from '../errors';
import { esc, renderStatusHtml, statusHtmlTarget, writeStatusHtml } from './html';

describe('renderStatusHtml', () => {
  it('escapes every character that could open markup or leave an attribute', () => {
    expect(esc(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });

  it('writes a hostile project, problem, drift and service only escaped', () => {
    const html = renderStatusHtml(mixedReport());

    expect(html).not.toContain(HOSTILE);
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain(`<strong>${esc(HOSTILE)}</strong>`);
    expect(html).toContain(`<li>the label says ${esc(HOSTILE)}</li>`);
    expect(html).toContain(`<li>${esc(HOSTILE)}: config: wanted <code>${esc(HOSTILE)}</code>`);
  });

  it('escapes the environment, the commit and the times, which come from the report too', () => {
    const evil = '<b>x</b>';
    const html = renderStatusHtml({
      ...report([row({ project: 'web', environment: evil, lastDeploy: { at: evil, commit: evil } })]),
      commit: evil,
      generatedAt: evil,
    });

    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it('names no URL, loads nothing and runs no script, so it reads the same from a file:// URL', () => {
    // Every kind of cell, without the hostile text (whose escaped words would match here as text).
    const html = renderStatusHtml(report(mixedReport().rows.filter((r) => r.project !== HOSTILE)));

    expect(html).not.toMatch(/:\/\//);
    expect(html).not.toMatch(/\burl\(|@import|@font-face|\bsrc=|\bhref=|<link\b|<script\b/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
  });

  it('says all is ok at the top when every row is, counting the rows not deployed apart', () => {
    const html = renderStatusHtml(okReport());

    expect(html).toContain('<title>homelab status: all ok</title>');
    expect(html).toContain('<section class="summary ok" aria-label="summary"><p><span class="mark">ok</span> All ok: every deployed project is healthy and in step (2 deployed rows, 1 not deployed)</p></section>');
  });

  it('says how many rows are not ok and, for each, where and why', () => {
    const html = renderStatusHtml(mixedReport());
    const summary = /<section class="summary bad"[\s\S]*?<\/section>/.exec(html)![0];

    expect(html).toContain('<title>homelab status: 6 not ok</title>');
    expect(summary).toContain('Not ok: 6 of 8 rows need attention (7 deployed rows, 1 not deployed)');
    expect(summary.match(/<li>/g)).toHaveLength(6);
    expect(summary).toContain('<li><strong>immich</strong> in <strong>prod</strong> (compose): server is unhealthy: its health check fails (4 restarts); the last backup is 10 d old, more than twice its schedule 0 3 * * *</li>');
    expect(summary).not.toContain('gitea</strong> in <strong>dev');
  });

  it('lists at most 20 rows not ok by name in the summary and counts the rest', () => {
    const rows = Array.from({ length: 23 }, (_, i) =>
      row({ project: `app${String(i).padStart(2, '0')}`, environment: 'prod', health: 'unknown', problems: ['the Docker host could not be asked'], ok: false }),
    );
    const summary = /<section class="summary bad"[\s\S]*?<\/section>/.exec(renderStatusHtml(report(rows)))![0];

    expect(summary.match(/<li>/g)).toHaveLength(21);
    expect(summary).toContain('<strong>app19</strong>');
    expect(summary).not.toContain('<strong>app20</strong>');
    expect(summary).toContain('<li>and 3 more, marked in the tables below</li>');
  });

  it('says where the wanted versions come from: the commit, or a workspace outside git', () => {
    expect(renderStatusHtml(okReport())).toContain('; wanted versions as of commit <code title="0123456789abcdef0123456789abcdef01234567">0123456</code></p>');
    expect(renderStatusHtml({ ...okReport(), commit: null })).toContain('; wanted versions from a workspace outside git</p>');
  });

  it('names the health of a row not ok that carries no problem line', () => {
    const html = renderStatusHtml(report([row({ project: 'web', environment: 'prod', health: 'stopped', problems: [], ok: false })]));

    expect(html).toContain('<li><strong>web</strong> in <strong>prod</strong> (compose): stopped</li>');
  });

  it('shows each health as a word on a coloured badge, never colour alone', () => {
    const html = renderStatusHtml(mixedReport());

    for (const [health, word] of [
      ['healthy', 'healthy'],
      ['unhealthy', 'unhealthy'],
      ['stopped', 'stopped'],
      ['starting', 'starting'],
      ['not-deployed', 'not deployed'],
      ['unknown', 'unknown'],
    ]) {
      expect(html).toContain(`<span class="badge h-${health}">${word}</span>`);
      expect(html).toMatch(new RegExp(`\\.h-${health}\\{background:var\\(--[a-z-]+\\);color:var\\(--[a-z-]+\\)\\}`));
    }
  });

  it('shows the last deploy in UTC with its age at the time of the report and its short commit', () => {
    const html = renderStatusHtml(report([row({ project: 'web', environment: 'prod', lastDeploy: { at: '2026-11-30T09:30:00Z', commit: 'fedcba9876543210' } })]));

    expect(html).toContain('<time datetime="2026-11-30T09:30:00.000Z">2026-11-30 09:30 UTC</time> <span class="muted">(2 h ago)</span><br>commit <code title="fedcba9876543210">fedcba9</code>');
  });

  it('cuts a digest version to 12 hex digits, with the whole digest in its title', () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const html = renderStatusHtml(report([row({ project: 'web', environment: 'prod', wantedVersion: digest, runningVersion: '1.0.0' })]));

    expect(html).toContain(`<td data-label="Wanted"><div><code title="${digest}">sha256:0123456789ab…</code></div></td>`);
    expect(html).toContain('<td data-label="Running"><div><code>1.0.0</code> <span class="warn-text">differs</span></div></td>');
  });

  it('lists the drift items in a details element under their count', () => {
    const gitea = mixedReport().rows.find((r) => r.project === 'gitea' && r.environment === 'prod')!;
    const html = renderStatusHtml(report([gitea]));

    expect(html).toContain('<span class="badge warn">2 differences</span><details><summary>what differs</summary><ul><li>Deployment/gitea: image: wanted <code>gitea/gitea:1.22.3</code>, running <code>gitea/gitea:1.22.2</code></li>');
  });

  it('follows the colour scheme and lays rows out as cards on a phone', () => {
    const html = renderStatusHtml(okReport());

    expect(html).toContain('<meta name="color-scheme" content="light dark">');
    expect(html).toContain('@media (prefers-color-scheme: dark)');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('@media (max-width:48rem)');
  });

  it('gives the same bytes for the same report', () => {
    expect(renderStatusHtml(mixedReport())).toBe(renderStatusHtml(mixedReport()));
  });
});

describe('writeStatusHtml', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('writes the page, replacing an older one and leaving no temporary file', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-status-write-'));
    const file = path.join(dir, 'status.html');
    fs.writeFileSync(file, 'old');

    writeStatusHtml(okReport(), file);

    expect(fs.readFileSync(file, 'utf8')).toBe(renderStatusHtml(okReport()));
    expect(fs.readdirSync(dir)).toEqual(['status.html']);
  });

  it('refuses a file whose folder does not exist, in one line naming it, and writes nothing', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-status-write-'));
    const file = path.join(dir, 'missing', 'status.html');

    expect(() => writeStatusHtml(okReport(), file)).toThrow(InputError);
    expect(() => writeStatusHtml(okReport(), file)).toThrow(
      `--html ${JSON.stringify(file)}: the folder ${JSON.stringify(path.join(dir, 'missing'))} does not exist; create it first or write the page elsewhere`,
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('resolves a relative page path against the folder it is given, and checks it before any report is read', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-status-write-'));

    expect(statusHtmlTarget('status.html', dir)).toBe(path.join(dir, 'status.html'));
    expect(() => statusHtmlTarget('site/status.html', dir)).toThrow(`--html "site/status.html": the folder ${JSON.stringify(path.join(dir, 'site'))} does not exist`);
  });

  it('says why when the folder cannot be written, and leaves nothing behind', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-status-write-'));
    const file = path.join(dir, 'status.html');
    // A directory where the temporary file would go makes the write fail, whoever runs the test (root ignores modes).
    fs.mkdirSync(path.join(dir, `.status.html.${process.pid}.tmp`));

    expect(() => writeStatusHtml(okReport(), file)).toThrow(/^--html ".*status\.html": could not write the page \(EISDIR\); check that the folder is writable$/);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('refuses a folder given as the file', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-status-write-'));

    expect(() => writeStatusHtml(okReport(), dir!)).toThrow(/is a folder; give the path of the page to write/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
