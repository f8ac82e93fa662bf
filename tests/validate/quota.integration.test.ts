import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskHost } from '../../tools/homelab/src/host';
import { validateProject } from '../../tools/homelab/src/validate/project';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { specOf, writeSpec } from '../support/spec';
import { makeDiskWorkspace, removeDir } from '../support/workspace';

/**
 * quota/exceeded: the owner's budget of an app's namespace (the spec's `quota` and
 * `environments.<env>.quota`) against what the app needs at its peak there, reported by the
 * Nx validate target at the line of the field that set it. No engine is needed: the check
 * runs on the normalized spec.
 */
describe('validate: quota/exceeded', () => {
  let root: string;
  const check = () => validateProject(root, 'applications', 'shop').filter((f) => f.rule === 'quota/exceeded');
  const write = (quota: object, prodQuota?: object) => {
    const host = diskHost(root);
    // 3 replicas of 200m/256Mi (4 pods at the peak): 800m and 1Gi of requests.
    writeSpec(host, specOf('shop', { replicas: 3, resources: { requests: { cpu: '200m', memory: '256Mi' } }, quota, environments: { dev: {}, prod: prodQuota ? { quota: prodQuota } : {} } }));
    syncAll(host);
  };
  beforeAll(() => {
    root = makeDiskWorkspace('quota-exceeded');
  });
  afterAll(() => removeDir(root));

  it('reports each environment whose need exceeds the budget, naming the resource, the need, the quota and the fix, at the field', () => {
    write({ requests: { cpu: '500m' } }, { requests: { cpu: '1' } });
    const text = fs.readFileSync(path.join(root, 'applications/specs/shop.yaml'), 'utf8');
    const line = text.split('\n').findIndex((l) => /^\s+cpu: 500m$/.test(l)) + 1;

    expect(check()).toEqual([
      {
        file: 'applications/specs/shop.yaml',
        line,
        col: expect.any(Number),
        rule: 'quota/exceeded',
        severity: 'error',
        message: "shop needs requests.cpu 800m at its peak in dev, but quota.requests.cpu is 500m, so the quota would refuse some of its pods; raise quota.requests.cpu to at least 800m, or lower the services' resources or replicas there",
      },
    ]);
  });

  it('reports nothing when the budget holds the need at the peak', () => {
    write({ requests: { cpu: '800m', memory: '1Gi' } });

    expect(check()).toEqual([]);
  });
});
