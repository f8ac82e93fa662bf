import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { batchMarker, MARK_ANNOTATION, needsOwnBuild, scratchFolder, splitAggregate, writeAggregate } from './kustomize-batch';
import { kustomizeBatchSize } from './kustomize-compose';

/** An object as kustomize prints it in an aggregate build: marked with its overlay's index, and the marker namespace unless `namespace` is its own (null: cluster-scoped). */
function marked(name: string, index: number, options: { namespace?: string | null; annotations?: string[] } = {}): string {
  const annotations = [...(options.annotations ?? []), `    ${MARK_ANNOTATION}: "${index}"`].sort();
  const ns = options.namespace === undefined ? `  namespace: '${batchMarker(index)}'` : options.namespace === null ? [] : `  namespace: ${options.namespace}`;
  return ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', '  annotations:', ...annotations, '  labels:', '    app: x', `  name: ${name}`, ...[ns].flat(), 'data:', '  k: v', ''].join('\n');
}

/** The same object as `kubectl kustomize <overlay>` prints it alone. */
function plain(name: string, options: { namespace?: string | null; annotations?: string[] } = {}): string {
  const annotations = options.annotations?.length ? ['  annotations:', ...[...options.annotations].sort()] : [];
  return ['apiVersion: v1', 'kind: ConfigMap', 'metadata:', ...annotations, '  labels:', '    app: x', `  name: ${name}`, ...(options.namespace ? [`  namespace: ${options.namespace}`] : []), 'data:', '  k: v', ''].join('\n');
}

const join = (docs: string[]) => docs.join('---\n');

describe('splitAggregate', () => {
  it('gives each overlay its objects in the printed order, without the mark and the marker namespace', () => {
    const output = join([marked('a', 1), marked('a', 0), marked('b', 1), marked('c', 0)]);

    expect(splitAggregate(output, 3)).toEqual([join([plain('a'), plain('c')]), join([plain('a'), plain('b')]), '']);
  });

  it('keeps the other annotations, and drops the annotations map when the mark was its only entry', () => {
    const own = ['    note: kept', '    zz/last: "1"'];
    const output = join([marked('a', 0, { annotations: own }), marked('b', 0)]);

    expect(splitAggregate(output, 1)).toEqual([join([plain('a', { annotations: own }), plain('b')])]);
  });

  it('keeps an object its own namespace, and a cluster-scoped object none', () => {
    const output = join([marked('a', 0, { namespace: 'velero' }), marked('b', 1, { namespace: null })]);

    expect(splitAggregate(output, 2)).toEqual([plain('a', { namespace: 'velero' }), plain('b')]);
  });

  it('splits an empty build into empty overlays', () => {
    expect(splitAggregate('', 2)).toEqual(['', '']);
  });

  it.each([
    ['an object without the mark', plain('a')],
    ['the mark copied into the spec', `${marked('a', 0)}spec:\n  note: ${MARK_ANNOTATION}\n`],
    ['the marker namespace of another overlay', marked('a', 0).replace(batchMarker(0), batchMarker(1))],
    ['the marker namespace copied elsewhere', `${marked('a', 0)}subjects:\n- namespace: '${batchMarker(0)}'\n`],
    ['an overlay index beyond the batch', marked('a', 5)],
    ['the mark outside metadata.annotations', marked('a', 0).replace('  annotations:\n', '  labels2:\n')],
  ])('refuses a build with %s (the batch falls back)', (_, doc) => {
    expect(splitAggregate(join([marked('z', 0), doc]), 2)).toBeNull();
  });
});

describe('needsOwnBuild', () => {
  it.each([
    ['sortOptions:\n  order: fifo\n', true],
    ['buildMetadata: [originAnnotations]\n', true],
    ['resources:\n  - ../../../base/app\n', false],
    ['# sortOptions: in a comment\nresources: []\n', false],
  ])('%j: %s', (text, expected) => {
    expect(needsOwnBuild(text)).toBe(expected);
  });
});

describe('writeAggregate', () => {
  let scratch = '';
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it('lists one wrapper per overlay, each including its overlay by a relative path and marking it with its index', () => {
    scratch = scratchFolder();
    const overlays = [path.join(scratch, '../ws/applications/kubernetes/overlays/dev/a'), path.join(scratch, '../ws/applications/kubernetes/overlays/prod/a')];
    writeAggregate(scratch, overlays);

    expect(fs.readFileSync(path.join(scratch, 'kustomization.yaml'), 'utf8')).toContain('resources:\n  - "0"\n  - "1"\n');
    const wrapper = fs.readFileSync(path.join(scratch, '1/kustomization.yaml'), 'utf8');
    expect(wrapper).toContain('  - "../../ws/applications/kubernetes/overlays/prod/a"');
    const mark = fs.readFileSync(path.join(scratch, '1/mark.yaml'), 'utf8');
    expect(mark).toContain(`  namespace: "${batchMarker(1)}"`);
    expect(mark).toContain(`  ${MARK_ANNOTATION}: "1"`);
    expect(mark).toContain('unsetOnly: true');
  });
});

describe('kustomizeBatchSize', () => {
  afterEach(() => delete process.env.HOMELAB_KUSTOMIZE_BATCH);

  it.each([
    [undefined, 25],
    ['1', 1],
    ['250', 250],
    ['0', 25],
    ['many', 25],
  ])('HOMELAB_KUSTOMIZE_BATCH=%s builds %d overlays per process', (value, size) => {
    if (value !== undefined) process.env.HOMELAB_KUSTOMIZE_BATCH = value;
    expect(kustomizeBatchSize()).toBe(size);
  });
});
