import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { main, mainAsync } from '../../tools/homelab/src/cli/main';
import { diskHost } from '../../tools/homelab/src/host';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, removeDir } from '../support/workspace';

/**
 * `homelab validate` in a workspace builds every project's overlays first, in one kustomize-batch
 * (or aggregate kustomize processes), as the batch executor does, instead of one kustomize process
 * per overlay: the same report as the checks that build each overlay themselves (main, sync),
 * findings included.
 */
const kubectl = requireTool('kubectl');

describe.skipIf(kubectl.skip)('homelab validate in a workspace, overlays built first', () => {
  let ws: string;
  const file = (rel: string) => path.join(ws, rel);

  beforeAll(() => {
    ws = makeDiskWorkspace('cli-prerender');
    const host = diskHost(ws);
    for (const name of ['web', 'api', 'docs']) generateApp(host, { name, image: 'traefik/whoami:v1.10.4', port: 8080 });
    // Findings to agree on: an overlay that does not build, and a hand edit of a generated file.
    const overlay = file('applications/kubernetes/overlays/dev/api/kustomization.yaml');
    fs.writeFileSync(overlay, fs.readFileSync(overlay, 'utf8').replace('resources:\n', 'resources:\n  - missing.yaml\n'));
    const service = file('applications/kubernetes/base/docs/service.yaml');
    fs.writeFileSync(service, fs.readFileSync(service, 'utf8').replace('type: ClusterIP', 'type: NodePort'));
  });
  afterAll(() => removeDir(ws));

  it('prints what the checks that build each overlay themselves print, with the overlays built in one go', async () => {
    const args = ['validate', '--workspace', ws, '--format', 'json'];
    let sync = '';
    const syncStatus = main(args, { cwd: ws, out: (t) => (sync += t), err: (t) => (sync += t) });
    let prerendered = '';
    const debug = process.env.HOMELAB_DEBUG;
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    process.env.HOMELAB_DEBUG = '1';
    let status: number;
    try {
      status = await mainAsync(args, { cwd: ws, out: (t) => (prerendered += t), err: (t) => (prerendered += t) });
    } finally {
      if (debug === undefined) delete process.env.HOMELAB_DEBUG;
      else process.env.HOMELAB_DEBUG = debug;
    }
    const said = stderr.mock.calls.map((c) => String(c[0])).join('');
    stderr.mockRestore();

    const rules = (JSON.parse(prerendered) as { findings: { file: string; rule: string }[] }).findings.map((f) => `${f.file} ${f.rule}`);
    expect(rules).toEqual(expect.arrayContaining(['applications/kubernetes/overlays/dev/api/kustomization.yaml render/kustomize', 'applications/kubernetes/base/docs/service.yaml sync/drift']));
    expect({ status, report: prerendered }).toEqual({ status: syncStatus, report: sync });
    // Three apps, an overlay each in dev and prod: all six built before the checks, none alone.
    expect(said).toMatch(/homelab: kustomize: (6 overlays by kustomize-batch, 0 batch process\(es\) for 0 overlays|0 overlays by kustomize-batch[^,]*, [1-9]\d* batch process\(es\) for 6 overlays), 0 built alone/);
  });
});
