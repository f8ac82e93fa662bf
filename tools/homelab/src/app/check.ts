import { InputError } from '../errors';
import type { FileHost } from '../host';
import { readYamlSource } from '../spec/io';
import type { DocPath } from '../spec/locate';
import { isSpecRule, type LocatedProblem, locateProblems, pathOfMessage, SpecError, type SpecProblem, sortProblems } from '../spec/problems';
import { checkSchema, setAside } from '../spec/schema';
import type { AppSpec, WorkspaceConfig } from '../spec/types';
import type { NormalizedApp } from './normalized';
import { readDependencies } from '../component/spec';
import { readAppLinks } from './links';
import { normalizeApp } from './normalize';

/**
 * normalizeApp with what the app depends on read from the workspace's component specs, the
 * other apps it is linked to from their specs (app/links.ts), and the files beside its spec
 * from the host.
 */
export function normalizeAppOnHost(host: FileHost, spec: AppSpec, workspace: WorkspaceConfig): NormalizedApp {
  return normalizeApp(spec, workspace, readDependencies(host, workspace, spec.dependsOn ?? []), (file) => host.read(file), readAppLinks(host, workspace, spec));
}

/** Rounds of normalize on a spec with its problems set aside: each finds at most one more problem. */
const MAX_ROUNDS = 10;

/**
 * Reads an app spec and normalizes it, or throws one SpecError with every problem of the spec
 * at once, each at the line and column of its field: the schema's (spec/problems.ts), the name
 * that is not the file's, and normalize's own checks (a dependsOn of a service that does not
 * exist, an image tagged latest, …). Normalize stops at its first problem and needs a
 * schema-valid spec, so it runs on the spec with each problem found so far set aside (a number
 * out of range at its limit, text holding a number as the number, the rest removed) until it
 * passes; a problem at or under a field set aside is left out (it may be the setting aside's).
 * nx g, nx sync and validate all read specs through here, so they report the same lines.
 */
export function checkAppSpec(host: FileHost, text: string, file: string, workspace: WorkspaceConfig): { spec: AppSpec; app: NormalizedApp } {
  const { value, source } = readYamlSource(text, file);
  const problems: SpecProblem[] = checkSchema('app', value);
  const name = (value as { name?: unknown } | null)?.name;
  const expected = file.replace(/^.*\//, '').replace(/\.yaml$/, '');
  if (typeof name === 'string' && name !== expected) {
    problems.push({ path: ['name'], rule: 'spec/invalid', message: `name: the app is named ${JSON.stringify(name)} but its file is ${expected}.yaml; a spec's name must match its file name, so rename one of them` });
  }
  const elsewhere: LocatedProblem[] = [];
  let app: NormalizedApp | undefined;
  // Normalize names files after the spec's name: it checks the rest under the file's name.
  const named = typeof name === 'string' && name !== expected ? { ...(value as object), name: expected } : value;
  let candidate = problems.length === 0 ? { value, changed: [] as DocPath[] } : setAside('app', named, named === value ? [] : [['name']]);
  for (let round = 0; candidate && round < MAX_ROUNDS; round++) {
    try {
      app = normalizeAppOnHost(host, candidate.value as AppSpec, workspace);
      break;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      app = undefined;
      if (!error.message.startsWith(`${file}: `)) {
        // A problem of another file (homelab.yaml, a component's spec): reported as it is said.
        elsewhere.push({ file: '', rule: 'spec/invalid', message: error.message });
        break;
      }
      const message = error.message.slice(file.length + 2);
      const at = fieldOf(candidate.value, message);
      const overlaps = (changed: DocPath) => changed.every((seg, i) => at.length <= i || String(at[i]) === String(seg)) || at.every((seg, i) => String(changed[i]) === String(seg));
      // A problem that quotes the name of a field set aside (a volume a mount names) is the setting aside's too.
      const quotes = (changed: DocPath) => typeof changed[changed.length - 1] === 'string' && message.includes(JSON.stringify(changed[changed.length - 1]));
      if (!candidate.changed.some((c) => overlaps(c) || quotes(c))) problems.push({ path: at, rule: isSpecRule(error.rule) ? error.rule : 'spec/invalid', message });
      if (at.length === 0) break;
      candidate = setAside('app', without(candidate.value, at), [...candidate.changed, at]);
    }
  }
  if (problems.length === 0 && elsewhere.length === 0 && app) return { spec: value as AppSpec, app };
  throw new SpecError([...sortProblems(locateProblems(problems, file, source)), ...elsewhere]);
}

/** The field a normalize message names, as a path into the spec; a quoted value names the item of a list that holds it. */
function fieldOf(spec: unknown, message: string): DocPath {
  const { path, value } = pathOfMessage(message);
  let node = spec;
  const found: DocPath = [];
  for (const seg of path) {
    const next = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
    if (next === undefined) break;
    found.push(seg);
    node = next;
  }
  if (value !== undefined && Array.isArray(node) && node.includes(value)) found.push(node.indexOf(value));
  return found;
}

/** A copy of the spec without the field at `path`. */
function without(spec: unknown, path: DocPath): unknown {
  const copy = structuredClone(spec) as Record<string | number, unknown>;
  let node = copy;
  for (const seg of path.slice(0, -1)) node = node[seg] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (Array.isArray(node)) node.splice(Number(last), 1);
  else delete node[last];
  return copy;
}
