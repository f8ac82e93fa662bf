import * as path from 'node:path';
import YAML from 'yaml';
import { renderApp } from '../render/app';
import { normalizeApp } from '../spec/normalize';
import { parseYamlDocument } from '../spec/io';
import { readAppSpec, readWorkspace, ownedFilesOnHost } from '../app/plan';
import { diskHost, type FileHost } from '../host';
import { HomelabError } from '../errors';

/** One problem found: where, which rule, what and how to fix it. */
export interface Finding {
  file: string;
  line?: number;
  rule: string;
  message: string;
  severity: 'error' | 'warning';
}

export function formatFinding(f: Finding): string {
  return `${f.file}${f.line ? `:${f.line}` : ''}  ${f.rule}  ${f.message}`;
}

/**
 * Project-level checks for one app or component: the spec against its schema, the
 * rendered files against the files in git (a hand edit of a generated file is a
 * finding), the secret store and the dependencies it names. Collects every finding.
 */
export function validateProject(workspaceRoot: string, layer: 'applications' | 'infrastructure', name: string): Finding[] {
  const host = diskHost(workspaceRoot);
  if (layer === 'infrastructure') return validateComponentSpec(host, name);
  const findings: Finding[] = [];
  const specFile = `applications/specs/${name}.yaml`;
  let files;
  let app;
  try {
    const workspace = readWorkspace(host);
    app = normalizeApp(readAppSpec(host, name), workspace);
    files = renderApp(app);
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    const match = /^([^:]+\.yaml):(\d+):/.exec(error.message);
    return [{ file: match?.[1] ?? specFile, line: match ? Number(match[2]) : undefined, rule: 'spec/invalid', message: error.message, severity: 'error' }];
  }
  const rendered = new Set(files.map((f) => f.path));
  for (const file of files) {
    const current = host.read(file.path);
    if (current === null) {
      findings.push({ file: file.path, rule: 'sync/missing', message: `missing; run \`npx nx sync\` to render it from ${specFile}`, severity: 'error' });
    } else if (file.owner === 'spec' && current !== file.content) {
      findings.push({
        file: file.path,
        line: firstDifferentLine(current, file.content),
        rule: 'sync/drift',
        message: `differs from what ${specFile} renders (a hand edit?); put the change in the spec or an overlay, then run \`npx nx sync\``,
        severity: 'error',
      });
    }
  }
  for (const stale of ownedFilesOnHost(host, name)) {
    if (!rendered.has(stale)) {
      findings.push({ file: stale, rule: 'sync/stale', message: `no longer rendered from ${specFile}; run \`npx nx sync\` to remove it`, severity: 'error' });
    }
  }
  const stores = secretStoreNames(host);
  if (app.secrets.enabled || app.backup.enabled) {
    if (!stores.has(app.secrets.store)) {
      findings.push({
        file: specFile,
        rule: 'secrets/store-missing',
        message: `ClusterSecretStore "${app.secrets.store}" (homelab.yaml secrets.store) is not defined under platform/secrets/stores; add it with nx g homelab:secret-store`,
        severity: 'error',
      });
    }
  }
  for (const dep of app.dependsOn) {
    if (!host.isFile(`infrastructure/specs/${dep}.yaml`)) {
      findings.push({
        file: specFile,
        rule: 'deps/unknown-component',
        message: `dependsOn "${dep}" is not an infrastructure component (infrastructure/specs/${dep}.yaml); add it with nx g homelab:infra ${dep} or remove it`,
        severity: 'error',
      });
    }
  }
  return findings;
}

function validateComponentSpec(host: FileHost, name: string): Finding[] {
  const file = `infrastructure/specs/${name}.yaml`;
  try {
    const spec = parseYamlDocument(host.read(file) ?? '', file) as { name?: unknown };
    if (!spec || typeof spec !== 'object' || spec.name !== name) {
      return [{ file, rule: 'spec/name', message: `a component spec must say name: ${name} (its file name); fix the name`, severity: 'error' }];
    }
  } catch (error) {
    if (!(error instanceof HomelabError)) throw error;
    return [{ file, rule: 'spec/invalid', message: error.message, severity: 'error' }];
  }
  return [];
}

/** Names of the ClusterSecretStores and SecretStores defined under platform/secrets/stores. */
function secretStoreNames(host: FileHost): Set<string> {
  const names = new Set<string>();
  for (const entry of host.list('platform/secrets/stores')) {
    if (!/\.ya?ml$/.test(entry)) continue;
    const text = host.read(path.posix.join('platform/secrets/stores', entry)) ?? '';
    for (const doc of YAML.parseAllDocuments(text)) {
      const value = doc.toJS() as { kind?: string; metadata?: { name?: string } } | null;
      if (value && /SecretStore$/.test(value.kind ?? '') && value.metadata?.name) names.add(value.metadata.name);
    }
  }
  return names;
}

function firstDifferentLine(a: string, b: string): number {
  const al = a.split('\n');
  const bl = b.split('\n');
  for (let i = 0; i < Math.max(al.length, bl.length); i++) if (al[i] !== bl[i]) return i + 1;
  return 1;
}
