import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCrdFiles } from '../../scripts/crds/install';
import { useCluster } from '../support/cluster';
import { installCatalogCrds } from '../support/crds';
import { makeTempDir, removeDir } from '../support/workspace';

/**
 * scripts/crds/install.ts applies every CRD file with one kubectl, as the users' CI job and the
 * API tests install them; when the server refuses one, the message names that file. The tests'
 * own installCatalogCrds records what it installed on the run's control plane, so the next file
 * asking for the same CRDs reads the record instead of applying them again.
 */
const cluster = useCluster();
const group = `t${randomBytes(4).toString('hex')}.homelab.test`;
const names: string[] = [];
let dir = '';

function crd(kind: string, valid = true): string {
  const plural = `${kind.toLowerCase()}s`;
  names.push(`${plural}.${group}`);
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          // A structural schema is required; `type: nothing` is refused by the API server.
          schema: { openAPIV3Schema: { type: valid ? 'object' : 'nothing', 'x-kubernetes-preserve-unknown-fields': true } },
        },
      ],
    },
  });
}

const kubectl = (args: string[], options?: { timeout?: number }) => cluster.kubectl(args, options);

describe.skipIf(cluster.skip)('installing CRDs (scripts/crds/install.ts applyCrdFiles)', () => {
  beforeAll(() => {
    dir = makeTempDir('crds');
  });
  afterAll(() => {
    if (names.length > 0) cluster.kubectl(['delete', 'crd', '--ignore-not-found', '--wait=false', ...names]);
    removeDir(dir);
  });

  it('applies several files in one call, and returns each CRD once the server serves it', () => {
    const files = ['Alpha', 'Beta'].map((kind) => {
      const file = path.join(dir, `${kind}.yaml`);
      fs.writeFileSync(file, crd(kind));
      return file;
    });

    const installed = applyCrdFiles(files, kubectl, 'homelab-test');

    expect(installed.sort()).toEqual([`customresourcedefinition.apiextensions.k8s.io/alphas.${group}`, `customresourcedefinition.apiextensions.k8s.io/betas.${group}`]);
    const served = cluster.kubectlOk(['api-resources', '--api-group', group, '-o', 'name']).split('\n').filter(Boolean).sort();
    expect(served).toEqual([`alphas.${group}`, `betas.${group}`]);
  });

  it('names the file the server refuses, and still installs the others', () => {
    const good = path.join(dir, 'Gamma.yaml');
    const bad = path.join(dir, 'Delta.yaml');
    fs.writeFileSync(good, crd('Gamma'));
    fs.writeFileSync(bad, crd('Delta', false));

    expect(() => applyCrdFiles([bad, good], kubectl, 'homelab-test')).toThrow(new RegExp(`^installing ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} failed: `));
    expect(cluster.kubectl(['get', 'crd', `gammas.${group}`]).status).toBe(0);
    expect(cluster.kubectl(['get', 'crd', `deltas.${group}`]).status).not.toBe(0);
  });

  it("records the catalog's CRDs on the control plane, and a second call returns the same names from the record", () => {
    const first = installCatalogCrds(cluster);
    const markers = cluster
      .kubectlOk(['get', 'configmap', '-n', 'default', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.data.names}{"\\n"}{end}'])
      .split('\n')
      .filter((line) => line.startsWith('homelab-test-crds-'));

    expect(first.length).toBeGreaterThan(50);
    expect(markers.map((line) => line.slice(line.indexOf('=') + 1).split(' ').sort())).toContainEqual([...first].sort());
    expect(installCatalogCrds(cluster)).toEqual(first);
    for (const name of first.slice(0, 5)) expect(cluster.kubectl(['get', name]).status).toBe(0);
  });
});
