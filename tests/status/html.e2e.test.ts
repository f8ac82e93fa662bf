import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStatusHtml } from '../../tools/homelab/src/status/html';
import type { StatusReport } from '../../tools/homelab/src/status/types';
import { dumpDom, readPng, requireChromium, screenshot, tableRows, textOf } from '../support/chromium';
import { HOSTILE, mixedReport, okReport } from '../support/status-reports';

// The status page opened in a real headless Chromium (Debian's package, installed by
// `npm run setup:engines`). The reports are built here by hand, as the Compose and Kubernetes
// readers would return them: the page only renders a report.
const chromium = requireChromium();

describe.skipIf(chromium.skip)('the status page in headless Chromium', () => {
  let dir: string;
  const pages: Record<string, { report: StatusReport; file: string; dom: string }> = {};

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-status-html-'));
    for (const [name, report] of Object.entries({ ok: okReport(), mixed: mixedReport() })) {
      const file = path.join(dir, `${name}.html`);
      writeStatusHtml(report, file);
      pages[name] = { report, file, dom: dumpDom(chromium.binary, file) };
    }
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows one row per project and environment, with its health word and versions, as the report says', () => {
    for (const { report, dom } of Object.values(pages)) {
      const rows = tableRows(dom);

      expect(rows).toHaveLength(report.rows.length);
      // The page groups rows by environment, in the report's order of environments.
      const expected = report.environments.flatMap((env) => report.rows.filter((r) => r.environment === env));
      expected.forEach((r, i) => {
        const cells = rows[i];
        expect(cells.Project).toContain(r.project);
        // A row not ok says so in words, beside its colour.
        expect(cells.Project.endsWith(' not ok')).toBe(!r.ok);
        expect(cells.Platform).toBe(r.platform);
        expect(cells.Health.startsWith(r.health.replace('-', ' '))).toBe(true);
        expect(cells.Wanted).toBe(r.wantedVersion ?? '—');
        expect(cells.Running.startsWith(r.runningVersion ?? '—')).toBe(true);
        expect(cells.Drift.startsWith(r.drift.length ? `${r.drift.length} difference` : 'none')).toBe(true);
        for (const p of r.problems) expect(cells.Problems).toContain(p);
      });
    }
  });

  it('puts each environment under its own heading, in the order of the report', () => {
    const { dom, report } = pages.mixed;
    const headings = [...dom.matchAll(/<h2>([\s\S]*?)<\/h2>/g)].map((m) => textOf(m[1]));

    expect(headings.map((h) => h.split(' ')[0])).toEqual(report.environments);
    expect(headings[1]).toBe('prod 6 of 6 rows not ok');
  });

  it('says at the top that all is ok, or how many rows are not and why', () => {
    const ok = textOf(/<section class="summary[^"]*"[^>]*>([\s\S]*?)<\/section>/.exec(pages.ok.dom)![1]);
    const bad = textOf(/<section class="summary[^"]*"[^>]*>([\s\S]*?)<\/section>/.exec(pages.mixed.dom)![1]);

    expect(ok).toMatch(/^ok All ok: every deployed project is healthy and in step \(2 deployed rows, 1 not deployed\)$/);
    expect(bad).toContain('not ok Not ok: 6 of 8 rows need attention');
    expect(bad).toContain('jellyfin in prod (compose): jellyfin is stopped: exited (137)');
    expect(bad).toContain('gitea in prod (kubernetes): drift: Deployment/gitea image is gitea/gitea:1.22.2');
  });

  it('shows the time it was generated and the commit', () => {
    const meta = textOf(/<p class="meta">([\s\S]*?)<\/p>/.exec(pages.ok.dom)![1]);

    expect(meta).toBe('Generated 2026-11-30 12:00 UTC; wanted versions as of commit 0123456');
  });

  it('shows a hostile project and problem as text, and no element of theirs gets into the page', () => {
    const { dom } = pages.mixed;
    const hostileRow = tableRows(dom).find((r) => r.Project.includes('<script>'));

    expect(hostileRow?.Project).toBe(`${HOSTILE} not ok`);
    expect(hostileRow?.Problems).toBe(`the label says ${HOSTILE}`);
    expect(dom).not.toMatch(/<script\b/i);
    expect(dom).not.toMatch(/<img\b/i);
    expect(dom).not.toMatch(/<[a-z][^>]*\sonerror=/i);
    // The page keeps its own title: the hostile script never ran.
    expect(textOf(/<title>([\s\S]*?)<\/title>/.exec(dom)![1])).toBe('homelab status: 6 not ok');
    // Every row stayed in its table: the hostile </td></tr></table> closed nothing.
    expect(dom.match(/<table>/g)).toHaveLength(2);
  });

  it.each([
    ['a desktop', 1280, 900],
    ['a phone', 390, 844],
  ])('takes a screenshot at %s size: a PNG of that size with the page drawn on it', (_what, width, height) => {
    const png = readPng(screenshot(chromium.binary, pages.mixed.file, path.join(dir, `mixed-${width}.png`), width, height));

    expect({ width: png.width, height: png.height }).toEqual({ width, height });
    // Not blank: a page of one colour would have failed to draw its table and badges.
    expect(png.colours).toBeGreaterThan(2);
  });
});
