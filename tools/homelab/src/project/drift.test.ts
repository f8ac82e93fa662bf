import { afterEach, describe, expect, it } from 'vitest';
import { diskHost } from '../host';
import { generateInfra } from '../component/generate';
import { validateComponent } from '../component/validate';
import { generateInit } from '../platform/init';
import type { RenderedFile } from '../render/engine';
import { makeDiskWorkspace, removeDir } from '../../../../tests/support/workspace';
import { normalizeAppOnHost, readAppSpec, readWorkspace } from '../app/plan';
import { renderApp } from '../render/app';
import { syncAll } from '../workspace/sync';
import { writePatchedStack } from '../../../../tests/support/spec';
import { checkDrift, firstDifferentLine } from './drift';
import { appPaths, type Layer } from './paths';

describe('firstDifferentLine', () => {
  it.each([
    ['a changed line', 'a\nB\nc\n', 'a\nb\nc\n', 2],
    ['a changed first line', 'x\nb\n', 'a\nb\n', 1],
    ['a line added at the end', 'a\nb\nextra\n', 'a\nb\n', 3],
    ['a file cut short after its first line', 'a', 'a\nb\nc', 2],
    ['a file cut short, ending in a newline', 'a\n', 'a\nb\nc\n', 2],
    ['a missing final newline', 'a\nb', 'a\nb\n', 3],
    ['no difference', 'a\nb\n', 'a\nb\n', 1],
  ])('points at the first line that differs: %s', (_what, current, expected, line) => {
    expect(firstDifferentLine(current, expected)).toBe(line);
  });
});

describe('checkDrift', () => {
  let root: string | undefined;
  afterEach(() => removeDir(root));

  const rendered = (layer: Layer): RenderedFile[] => [
    { path: `${layer}/kubernetes/base/x/service.yaml`, content: 'kind: Service\nname: x\n', owner: 'spec' },
    { path: `${layer}/kubernetes/overlays/dev/x/kustomization.yaml`, content: 'resources: []\n', owner: 'user' },
    { path: `${layer}/compose/environments/dev/x/compose.generated.yaml`, content: 'name: x\n', owner: 'spec' },
  ];

  it.each<[Layer, string]>([
    ['applications', 'the spec or an overlay'],
    ['infrastructure', "the spec or the overlay's values"],
  ])('reports drift, missing and stale files of %s the same way, and where the change belongs', (layer, where) => {
    root = makeDiskWorkspace('drift');
    const host = diskHost(root);
    host.write(`${layer}/kubernetes/base/x/service.yaml`, 'kind: Service\nname: y\n');
    // The user's overlay may differ from its scaffold: it is theirs.
    host.write(`${layer}/kubernetes/overlays/dev/x/kustomization.yaml`, 'resources: [mine.yaml]\n');
    host.write(`${layer}/kubernetes/base/x/old.yaml`, 'kind: ConfigMap\n');
    host.write(`${layer}/compose/base/x/.env`, 'SECRET=value\n');

    expect(checkDrift(host, { layer, name: 'x' }, rendered(layer))).toEqual([
      {
        file: `${layer}/kubernetes/base/x/service.yaml`,
        rule: 'sync/drift',
        message: `differs from what ${layer}/specs/x.yaml renders (a hand edit?); put the change in ${where}, then run \`npx nx sync\``,
        line: 2,
      },
      { file: `${layer}/compose/environments/dev/x/compose.generated.yaml`, rule: 'sync/missing', message: `missing; run \`npx nx sync\` to render it from ${layer}/specs/x.yaml`, line: 1 },
      { file: `${layer}/kubernetes/base/x/old.yaml`, rule: 'sync/stale', message: `no longer rendered from ${layer}/specs/x.yaml; run \`npx nx sync\` to remove it`, line: 1 },
    ]);
  });

  it("points a component's truncated file at the first missing line, as an app's", () => {
    root = makeDiskWorkspace('drift-component');
    const host = diskHost(root);
    generateInit(host, {});
    generateInfra(host, { component: 'postgres' });
    const file = 'infrastructure/kubernetes/base/postgres/values.yaml';
    const text = host.read(file)!;
    expect(text.split('\n').length).toBeGreaterThan(3);
    host.write(file, text.split('\n')[0]);

    const drift = validateComponent(host, 'postgres').filter((f) => f.rule === 'sync/drift');

    expect(drift).toEqual([expect.objectContaining({ file, line: 2 })]);
  });

  it('reports drift where a config file beside the spec changed, and sync renders its new text into both trees', () => {
    root = makeDiskWorkspace('drift-config-file');
    const host = diskHost(root);
    generateInit(host, {});
    const spec = writePatchedStack(host);
    syncAll(host);
    const conf = `${appPaths(spec.name).specFiles}/broker.conf`;
    const current = () => renderApp(normalizeAppOnHost(host, readAppSpec(host, spec.name), readWorkspace(host)));
    expect(checkDrift(host, { layer: 'applications', name: spec.name }, current())).toEqual([]);

    host.write(conf, 'listener 8883\n');

    expect(checkDrift(host, { layer: 'applications', name: spec.name }, current()).map((f) => `${f.rule} ${f.file}`)).toEqual([
      'sync/drift applications/kubernetes/base/relay/configmap.yaml',
      'sync/drift applications/compose/base/relay/compose.yaml',
    ]);
    expect(syncAll(host).sort()).toEqual(['applications/compose/base/relay/compose.yaml', 'applications/kubernetes/base/relay/configmap.yaml']);
    expect(host.read('applications/kubernetes/base/relay/configmap.yaml')).toContain('listener 8883');
  });
});
