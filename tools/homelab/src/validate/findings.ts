import { RULE_BY_ID, RULES } from './rules';

/** One problem found: where, which rule, what and how to fix it. */
export interface Finding {
  /** Workspace-relative (or as given on the command line) path, with '/'. */
  file: string;
  line?: number;
  col?: number;
  rule: string;
  /** What is wrong and how to fix it, one line, never a secret value. */
  message: string;
  severity: 'error' | 'warning';
}

/** `path:line:col  rule-id  message`: the one format every finding is printed in. */
export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line ?? 1}:${f.col ?? 1}  ${f.rule}  ${f.message}${f.severity === 'warning' ? ' [warning]' : ''}`;
}

/** Sorted by file, line, column and rule; exact duplicates (the same base seen through two overlays) dropped. */
export function sortFindings(findings: Finding[]): Finding[] {
  // A stable sort, then the repeats dropped within each run of one place and rule: the first of
  // each message stays, as a dedupe before the sort would keep it.
  const sorted = [...findings].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 1) - (b.line ?? 1) || (a.col ?? 1) - (b.col ?? 1) || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0)));
  const out: Finding[] = [];
  let runStart = 0;
  for (const f of sorted) {
    const first = out[runStart];
    if (first === undefined || first.file !== f.file || (first.line ?? 1) !== (f.line ?? 1) || (first.col ?? 1) !== (f.col ?? 1) || first.rule !== f.rule) runStart = out.length;
    else if (repeats(out, runStart, f.message)) continue;
    out.push(f);
  }
  return out;
}

/** Does a finding of `out` from `from` on say `message`? (A run of one place and rule is a few findings long.) */
function repeats(out: Finding[], from: number, message: string): boolean {
  for (let i = from; i < out.length; i++) if (out[i].message === message) return true;
  return false;
}

/** What `--server-dry-run` sent: overlays (and platform kustomizations) and the objects they render. */
export interface ServerSummary {
  overlays: number;
  objects: number;
}

export function formatPretty(findings: Finding[], summary: { files: number; documents: number; server?: ServerSummary }): string {
  const lines = findings.map(formatFinding);
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  const server = summary.server ? `, ${summary.server.objects} object(s) of ${summary.server.overlays} overlay(s) dry-run on the cluster` : '';
  lines.push(
    `${summary.files} file(s), ${summary.documents} document(s)${server}: ${errors === 0 && warnings === 0 ? 'valid' : `${errors} error(s), ${warnings} warning(s)`}`,
  );
  return `${lines.join('\n')}\n`;
}

export function formatJson(findings: Finding[], summary: { files: number; documents: number; server?: ServerSummary }): string {
  // A finding with its line and column prints as it is (no copy of 16,000 findings to fill in what they hold).
  return `${JSON.stringify({ ...summary, findings: findings.map((f) => (typeof f.line === 'number' && typeof f.col === 'number' ? f : { ...f, line: f.line ?? 1, col: f.col ?? 1 })) }, null, 2)}\n`;
}

/** SARIF 2.1.0 for code scanning: one run, the rule catalogue as the driver's rules. */
export function formatSarif(findings: Finding[], version: string): string {
  const used = [...new Set(findings.map((f) => f.rule))];
  const catalogue = [...RULES.map((r) => r.id), ...used.filter((id) => !RULE_BY_ID.has(id))];
  const index = new Map(catalogue.map((id, i) => [id, i]));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'homelab validate',
            version,
            informationUri: 'https://homelab.invalid/docs/validate.md',
            rules: catalogue.map((id) => {
              const rule = RULE_BY_ID.get(id);
              return {
                id,
                shortDescription: { text: rule?.summary ?? id },
                defaultConfiguration: { level: rule?.severity ?? 'error' },
                properties: { tags: [rule?.class ?? 'other'] },
              };
            }),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: index.get(f.rule),
          level: f.severity,
          message: { text: f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.file.split('/').map(encodeURIComponent).join('/') },
                region: { startLine: f.line ?? 1, startColumn: f.col ?? 1 },
              },
            },
          ],
        })),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
