import type { FileHost } from '../host';
import type { RenderedFile } from '../render/engine';
import { ownedFiles } from './owned';
import { type Layer, type ProjectId, projectPaths } from './paths';

/** Where a change that a spec does not render belongs instead. */
const PUT_IT_IN: Record<Layer, string> = {
  applications: 'the spec or an overlay',
  infrastructure: "the spec or the overlay's values",
};

export interface DriftFinding {
  file: string;
  rule: 'sync/missing' | 'sync/drift' | 'sync/stale';
  message: string;
  /** 1-based: the first line that differs for sync/drift, else 1. */
  line: number;
}

/**
 * The files of a project that are not what its spec renders: missing (any owner), changed
 * by hand (spec-owned only: the user's files are theirs to change) and stale (spec-owned
 * files on the host that the spec no longer renders). What `nx sync:check` and the
 * `validate` target report as sync/*.
 */
export function checkDrift(host: FileHost, project: ProjectId, files: RenderedFile[]): DriftFinding[] {
  const spec = projectPaths(project.layer, project.name).spec;
  const findings: DriftFinding[] = [];
  for (const file of files) {
    const current = host.read(file.path);
    if (current === null) {
      findings.push({ file: file.path, rule: 'sync/missing', message: `missing; run \`npx nx sync\` to render it from ${spec}`, line: 1 });
    } else if (file.owner === 'spec' && current !== file.content) {
      findings.push({
        file: file.path,
        rule: 'sync/drift',
        message: `differs from what ${spec} renders (a hand edit?); put the change in ${PUT_IT_IN[project.layer]}, then run \`npx nx sync\``,
        line: firstDifferentLine(current, file.content),
      });
    }
  }
  const rendered = new Set(files.map((f) => f.path));
  for (const stale of ownedFiles(host, project)) {
    if (!rendered.has(stale)) findings.push({ file: stale, rule: 'sync/stale', message: `no longer rendered from ${spec}; run \`npx nx sync\` to remove it`, line: 1 });
  }
  return findings;
}

/**
 * The first line (1-based) at which the file on the host differs from what the spec renders.
 * Where one text is the other cut short, it is the first line only one of them has (one past
 * the end of the shorter); texts that do not differ give 1.
 */
export function firstDifferentLine(current: string, expected: string): number {
  const have = current.split('\n');
  const want = expected.split('\n');
  for (let i = 0; i < Math.max(have.length, want.length); i++) if (have[i] !== want[i]) return i + 1;
  return 1;
}
