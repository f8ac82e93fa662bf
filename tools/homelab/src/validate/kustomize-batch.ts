import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Many kustomize overlays built by one kustomize process, each overlay's output byte for byte
 * what `kubectl kustomize <overlay>` prints (docs/validate.md, "How overlays are built").
 *
 * An aggregate kustomization in a scratch folder lists one wrapper per overlay as its
 * `resources`. Each wrapper includes its overlay and marks every object with the overlay's index:
 * an annotation (MARK_ANNOTATION, on `metadata/annotations` only) tells which overlay an object
 * came from, and a marker namespace on the objects that have none (a NamespaceTransformer with
 * `unsetOnly`, on `metadata/namespace` only) keeps apart the objects every app has under the same
 * name (the `default-deny` NetworkPolicy), which would otherwise collide. kustomize's
 * `originAnnotations` cannot tell the overlay: an object of a base names the base's file, which a
 * dev and a prod overlay share.
 *
 * kustomize sorts its output (legacy order: by kind, then by `namespace|name`, an object without
 * a namespace having an empty one); the marker namespace starts with `|`, so it sorts against every
 * real namespace as the empty one does, and each overlay's objects keep their own order in the
 * aggregate output. kustomize drops an empty `annotations` map, so the split drops the map when the
 * mark was its only entry.
 *
 * The split accepts an aggregate output only when every object carries exactly one mark where the
 * wrappers put it; anything else (a mark elsewhere, copied by a transformer) rejects the batch, as
 * a failed build does (an id collision, one broken overlay). A rejected batch is bisected down to
 * single overlays, which are built alone with the per-overlay command, so a broken overlay's
 * finding is exactly today's.
 */

/** The annotation whose value is the index of the overlay an object came from. */
export const MARK_ANNOTATION = 'homelab.dev/kbatch';

/** The namespace the wrapper of the `index`-th overlay of a batch gives objects without one. */
export function batchMarker(index: number): string {
  return `|homelab-kbatch-${index}`;
}

/** An overlay's kustomization sets what only the top-level kustomization of a build honours: it is built alone. */
export function needsOwnBuild(kustomizationText: string): boolean {
  return /^(sortOptions|buildMetadata)\s*:/m.test(kustomizationText);
}

/**
 * Writes the aggregate kustomization of `overlays` (absolute folders) into `scratch`:
 * `scratch/kustomization.yaml` lists the wrappers `scratch/<i>/`, each including its overlay
 * by a relative path.
 */
export function writeAggregate(scratch: string, overlays: string[]): void {
  overlays.forEach((overlay, i) => {
    const dir = path.join(scratch, String(i));
    fs.mkdirSync(dir, { recursive: true });
    const resource = path.relative(dir, overlay).split(path.sep).join('/');
    fs.writeFileSync(
      path.join(dir, 'kustomization.yaml'),
      ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources:', `  - ${JSON.stringify(resource)}`, 'transformers:', '  - mark.yaml', ''].join('\n'),
    );
    fs.writeFileSync(
      path.join(dir, 'mark.yaml'),
      [
        'apiVersion: builtin',
        'kind: NamespaceTransformer',
        'metadata:',
        '  name: homelab-kbatch',
        `  namespace: ${JSON.stringify(batchMarker(i))}`,
        'unsetOnly: true',
        'setRoleBindingSubjects: none',
        'fieldSpecs:',
        '  - path: metadata/namespace',
        '    create: true',
        '---',
        'apiVersion: builtin',
        'kind: AnnotationsTransformer',
        'metadata:',
        '  name: homelab-kbatch',
        'annotations:',
        `  ${MARK_ANNOTATION}: "${i}"`,
        'fieldSpecs:',
        '  - path: metadata/annotations',
        '    create: true',
        '',
      ].join('\n'),
    );
  });
  fs.writeFileSync(
    path.join(scratch, 'kustomization.yaml'),
    ['apiVersion: kustomize.config.k8s.io/v1beta1', 'kind: Kustomization', 'resources:', ...overlays.map((_, i) => `  - "${i}"`), ''].join('\n'),
  );
}

/** A fresh scratch folder for one aggregate build; the caller removes it. */
export function scratchFolder(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-kbatch-'));
}

/**
 * Splits an aggregate build's output back per overlay (`count` of them, in the order they were
 * listed): each object goes to the overlay its mark names, without the mark, in the order
 * kustomize printed it. Null when an object does not carry exactly one mark where the wrappers
 * put it.
 */
export function splitAggregate(output: string, count: number): string[] | null {
  const parts: string[][] = Array.from({ length: count }, () => []);
  if (output === '') return parts.map(() => '');
  for (const doc of output.split(/^---\n/m)) {
    const owned = unmark(doc, count);
    if (!owned) return null;
    parts[owned.index].push(owned.text);
  }
  return parts.map((docs) => docs.join('---\n'));
}

const MARK_LINE = new RegExp(`^ {4}${MARK_ANNOTATION.replace(/[./]/g, '\\$&')}: "(\\d+)"$`);
const MARKER_NAMESPACE_LINE = /^ {2}namespace: '\|homelab-kbatch-(\d+)'$/;

/** One object's text without its marks, and the overlay they name; null unless the marks are where the wrappers put them, and nowhere else. */
function unmark(doc: string, count: number): { index: number; text: string } | null {
  if (doc.split(MARK_ANNOTATION).length !== 2 || doc.split('homelab-kbatch-').length > 2) return null;
  const lines = doc.split('\n');
  const start = lines.indexOf('metadata:');
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && lines[end].startsWith(' ')) end++;
  const meta = lines.slice(start + 1, end);
  const at = meta.findIndex((line) => MARK_LINE.test(line));
  const annotations = meta.lastIndexOf('  annotations:', at);
  if (at < 0 || annotations < 0 || meta.slice(annotations + 1, at).some((line) => !line.startsWith('    '))) return null;
  const index = Number(MARK_LINE.exec(meta[at])![1]);
  if (!(index < count)) return null;
  const drop = new Set([at]);
  // The mark was the only annotation: kustomize prints no empty map.
  if (annotations === at - 1 && !(meta[at + 1] ?? '').startsWith('    ')) drop.add(annotations);
  const ns = meta.findIndex((line) => MARKER_NAMESPACE_LINE.test(line));
  if (ns >= 0) {
    if (Number(MARKER_NAMESPACE_LINE.exec(meta[ns])![1]) !== index) return null;
    drop.add(ns);
  } else if (doc.includes('homelab-kbatch-')) {
    return null;
  }
  return { index, text: [...lines.slice(0, start + 1), ...meta.filter((_, i) => !drop.has(i)), ...lines.slice(end)].join('\n') };
}
