/**
 * Running kubeconform beside `homelab validate` and comparing their schema verdicts, for
 * `npm run bench:validate` and the tests of the local schemas. kubeconform has no policy rules:
 * only homelab's `schema/*` findings are compared, as the number of invalid documents in each file.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOCATION_TEMPLATE } from './schemas';

const BUILD = path.join(__dirname, 'build.sh');

/**
 * The kubeconform binary: $KUBECONFORM, else the one `npm run setup:engines` built into the cache
 * (scripts/kubeconform/build.sh), else `kubeconform` on PATH; null when none answers `-v`.
 */
export function findKubeconform(env: NodeJS.ProcessEnv = process.env): string | null {
  const built = spawnSync('bash', [BUILD, '--check'], { encoding: 'utf8', env });
  const candidates = [env.KUBECONFORM, built.status === 0 ? built.stdout.trim() : '', 'kubeconform'].filter((c): c is string => !!c);
  return candidates.find((c) => spawnSync(c, ['-v'], { encoding: 'utf8', env }).status === 0) ?? null;
}

/** kubeconform's arguments for a strict check of `targets` against the local schema folder, as JSON with a summary. */
export function kubeconformArgs(schemaDir: string, targets: readonly string[], workers = 4): string[] {
  return ['-strict', '-n', String(workers), '-summary', '-output', 'json', '-schema-location', path.join(schemaDir, LOCATION_TEMPLATE), ...targets];
}

interface KubeconformOutput {
  resources?: { filename: string; status: string }[];
  summary: { valid: number; invalid: number; errors: number; skipped: number };
}

/** Invalid (or unreadable) documents a file, from kubeconform's `-output json`, with the summary. */
export function kubeconformVerdicts(stdout: string, cwd: string): { byFile: Map<string, number>; summary: KubeconformOutput['summary'] } {
  const out = JSON.parse(stdout) as KubeconformOutput;
  const byFile = new Map<string, number>();
  for (const r of out.resources ?? []) {
    if (r.status !== 'statusInvalid' && r.status !== 'statusError') continue;
    const file = path.relative(cwd, path.resolve(cwd, r.filename));
    byFile.set(file, (byFile.get(file) ?? 0) + 1);
  }
  return { byFile, summary: out.summary };
}

/**
 * Documents with at least one `schema/*` finding, a file, from `homelab validate --format json`:
 * a finding's document is the number of `---` separators above its line (a finding without a line
 * counts as the first document).
 */
export function homelabSchemaVerdicts(findings: { file: string; line?: number; rule: string }[], cwd: string): Map<string, number> {
  const docs = new Map<string, Set<number>>();
  const separators = new Map<string, number[]>();
  for (const f of findings) {
    if (!f.rule.startsWith('schema/')) continue;
    if (!separators.has(f.file)) {
      const lines = fs.readFileSync(path.resolve(cwd, f.file), 'utf8').split('\n');
      separators.set(f.file, lines.flatMap((l, i) => (/^---(\s|$)/.test(l) ? [i + 1] : [])));
    }
    const doc = separators.get(f.file)!.filter((l) => l < (f.line ?? 0)).length;
    docs.set(f.file, (docs.get(f.file) ?? new Set()).add(doc));
  }
  return new Map([...docs].map(([file, set]) => [file, set.size]));
}

/** The files where the two tools disagree on the number of schema-invalid documents, as `file: homelab N, kubeconform M`. */
export function verdictDisagreements(homelab: Map<string, number>, kubeconform: Map<string, number>): string[] {
  const files = [...new Set([...homelab.keys(), ...kubeconform.keys()])].sort();
  return files.filter((f) => (homelab.get(f) ?? 0) !== (kubeconform.get(f) ?? 0)).map((f) => `${f}: homelab ${homelab.get(f) ?? 0}, kubeconform ${kubeconform.get(f) ?? 0}`);
}
