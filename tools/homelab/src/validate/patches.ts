import YAML from 'yaml';
import type { NormalizedPatches } from '../app/steps/patches';
import type { Finding } from './findings';
import { finding } from './source';

/**
 * The escape hatch's price, shown in review: each per-platform patch of the spec (docs/spec.md,
 * "Patches") makes the two platforms differ where it changes something, so each is a warning
 * that names what it changes and on which platform only. The spec line is the patch's own.
 */
export function patchFindings(patches: NormalizedPatches, specFile: string, specText: string): Finding[] {
  // The line of the patch itself (its value).
  const at = keyLineFinder(specText, false);
  const out: Finding[] = [];
  patches.kubernetes.forEach((p, i) => {
    const what = `${p.touches.kind} ${p.touches.name ?? `(every ${p.touches.kind} of the app)`}`;
    out.push(
      finding(
        specFile,
        'parity/patch',
        `patches.kubernetes[${i}] changes ${what} (${list(p.touches.paths)}) on Kubernetes only; Compose runs without it: add what Compose needs to patches.compose, or keep it as a known difference`,
        at(['patches', 'kubernetes', i]),
      ),
    );
  });
  if (patches.compose) {
    const { services, sections } = patches.compose.touches;
    const parts = [
      ...services.map((s) => `service ${s.service} (${list(s.keys)})`),
      ...sections.map((s) => `${s.section} ${s.names.join(', ')}`),
    ];
    out.push(
      finding(
        specFile,
        'parity/patch',
        `patches.compose changes ${parts.join('; ')} on Compose only; Kubernetes runs without it: add what Kubernetes needs to patches.kubernetes, or keep it as a known difference`,
        at(['patches', 'compose']),
      ),
    );
  }
  return out;
}

/** At most six names, then how many more: a warning stays one readable line. */
function list(names: string[]): string {
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 6).join(', ')} and ${names.length - 6} more`;
}

/**
 * The line of a field of the spec: of the first of the paths given that is in the spec (1 when
 * none is); with `atKey`, the line of its key (`autoscale:`) rather than of its value, which for
 * a map in block style is the line below.
 */
export function keyLineFinder(text: string, atKey = true): (...paths: (string | number)[][]) => number {
  // Parsed at the first finding to place: validate builds a finder for every app, and most apps
  // have no patch, autoscale or placement finding, so most specs are never parsed again here.
  let parsed: { counter: YAML.LineCounter; doc: YAML.Document.Parsed } | undefined;
  return (...paths) => {
    if (!parsed) {
      const counter = new YAML.LineCounter();
      parsed = { counter, doc: YAML.parseDocument(text, { lineCounter: counter }) };
    }
    const { counter, doc } = parsed;
    for (const path of paths) {
      const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
      if (!node?.range) continue;
      const parent = atKey && path.length > 0 ? doc.getIn(path.slice(0, -1), true) : undefined;
      const pair = YAML.isMap(parent) ? parent.items.find((p) => YAML.isScalar(p.key) && p.key.value === path[path.length - 1]) : undefined;
      const at = YAML.isScalar(pair?.key) && pair.key.range ? pair.key.range[0] : node.range[0];
      return counter.linePos(at).line;
    }
    return 1;
  };
}
