import type { FileHost } from '../host';
import { appPaths, environmentPaths, specsDir } from '../project/paths';
import type { AppSpec, WorkspaceConfig } from '../spec/types';
import YAML from 'yaml';
import type { AppLinks, LinkedApp } from './normalized';
import { LINKS_POLICY_FILE } from './steps/links';

/** What the links of apps need from another app's spec, read leniently: a spec that does not read is its own validate's problem. */
interface LinkFacts {
  dependsOn: string[];
  environments: string[];
}

/**
 * The apps an app is linked to (docs/spec.md, "Apps that depend on apps"), read from the host:
 * each app its `dependsOn` names (an `applications/specs/<name>.yaml` exists) with the
 * environments it runs in and its level in the order of apps, every app whose `dependsOn` names
 * this one, and the cycle that leads back to it. The app's own spec is the one given (a
 * generator's, not yet written), never the host's.
 *
 * Other specs are read leniently (a broken one links as if it ran everywhere, without
 * dependencies: its own validate reports it), and only those whose text names the app are
 * parsed when looking for dependents, so rendering every app of a large workspace stays cheap.
 */
export function readAppLinks(host: FileHost, workspace: WorkspaceConfig, spec: AppSpec): AppLinks {
  const all = workspace.environments.map((e) => e.name);
  const own: LinkFacts = { dependsOn: spec.dependsOn ?? [], environments: spec.environments ? Object.keys(spec.environments) : all };
  const cache = new Map<string, LinkFacts | null>([[spec.name, own]]);
  const facts = (name: string): LinkFacts | null => {
    if (!cache.has(name)) cache.set(name, readFacts(host.read(appPaths(name).spec), all));
    return cache.get(name)!;
  };

  // Levels: 0 without app dependencies, else 1 + the highest of theirs. A cycle that does not
  // come back to this app (b -> c -> b) is cut where it closes: b's own render refuses it.
  let cycle: string[] | null = null;
  const levels = new Map<string, number>();
  const visiting: string[] = [];
  const level = (name: string): number => {
    const known = levels.get(name);
    if (known !== undefined) return known;
    if (visiting.includes(name)) {
      if (name === spec.name && cycle === null) cycle = [...visiting, name];
      return 0;
    }
    visiting.push(name);
    const deps = (facts(name)?.dependsOn ?? []).filter((d) => facts(d) !== null);
    const value = deps.length === 0 ? 0 : 1 + Math.max(...deps.map(level));
    visiting.pop();
    levels.set(name, value);
    return value;
  };
  level(spec.name);

  const linked = (name: string): LinkedApp => ({ name, environments: facts(name)!.environments, level: levels.get(name) ?? level(name) });
  const apps = new Map(own.dependsOn.filter((d) => facts(d) !== null).map((d) => [d, linked(d)] as const));

  const mentions = mentionTest(spec.name);
  const dependents: LinkedApp[] = [];
  for (const name of mentionedBy(host, spec.name) ?? specNames(host)) {
    if (name === spec.name) continue;
    const text = host.read(appPaths(name).spec);
    if (text === null || !mentions(text)) continue;
    if (facts(name)?.dependsOn.includes(spec.name)) dependents.push({ name, environments: facts(name)!.environments, level: 0 });
  }
  return { apps, dependents, cycle };
}

/** The names of the workspace's app specs, sorted. */
function specNames(host: FileHost): string[] {
  return host
    .list(specsDir('applications'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => file.slice(0, -'.yaml'.length));
}

/**
 * The apps whose spec text has `name` among its words, sorted: from an index of every spec's
 * words built once per host that keeps one (a validate run's: host.ts memo), where a batch asked
 * every spec of every app (250,000 reads and word lookups at 500 apps). Null where the host keeps
 * none, or for a name that is not one word: every spec is then tried, as before.
 */
function mentionedBy(host: FileHost, name: string): string[] | null {
  if (!host.memo || !/^[-a-z0-9]+$/.test(name)) return null;
  let index = host.memo.get(MENTIONS) as Map<string, string[]> | undefined;
  if (!index) {
    index = new Map();
    for (const app of specNames(host)) {
      const text = host.read(appPaths(app).spec);
      if (text === null) continue;
      for (const word of wordsOf(text)) {
        const apps = index.get(word);
        if (apps) apps.push(app);
        else index.set(word, [app]);
      }
    }
    host.memo.set(MENTIONS, index);
  }
  return index.get(name) ?? [];
}

const MENTIONS = 'app-links:mentions';

/**
 * Does a spec's text name the app (as a whole word of letters, digits and dashes)? For a name
 * of those characters only (every valid app name), the answer is whether it is one of the text's
 * words, and each text's words are listed once: a validate batch asks it of every spec for every
 * app (250,000 times at 500 apps), and matching a pattern each time was a tenth of the batch's
 * spec checks. Any other name is matched as a pattern, as before.
 */
function mentionTest(name: string): (text: string) => boolean {
  if (!/^[-a-z0-9]+$/.test(name)) {
    const pattern = new RegExp(`(^|[^-a-z0-9])${name}($|[^-a-z0-9])`);
    return (text) => pattern.test(text);
  }
  return (text) => wordsOf(text).has(name);
}

/** The words (runs of letters, digits and dashes) of each spec text, remembered; a memo of 10,000 texts starts over. */
const specWords = new Map<string, Set<string>>();

function wordsOf(text: string): Set<string> {
  let words = specWords.get(text);
  if (words === undefined) {
    words = new Set(text.match(/[-a-z0-9]+/g));
    if (specWords.size >= 10_000) specWords.clear();
    specWords.set(text, words);
  }
  return words;
}

function readFacts(text: string | null, all: string[]): LinkFacts | null {
  if (text === null) return null;
  let value: unknown;
  try {
    value = YAML.parse(text, { maxAliasCount: 100 });
  } catch {
    return { dependsOn: [], environments: all };
  }
  const spec = (value && typeof value === 'object' ? value : {}) as { dependsOn?: unknown; environments?: unknown };
  const dependsOn = Array.isArray(spec.dependsOn) ? spec.dependsOn.filter((d): d is string => typeof d === 'string') : [];
  const environments = spec.environments && typeof spec.environments === 'object' && !Array.isArray(spec.environments) ? Object.keys(spec.environments) : all;
  return { dependsOn, environments };
}

/**
 * The apps whose rendered files hold links to other apps now (an overlay's generated
 * NetworkPolicy between apps): with the apps an app depends on, what must render again when
 * its spec changes, since one of them may have been linked to it before.
 */
export function currentlyLinkedApps(host: FileHost): string[] {
  const envs = host.list('applications/kubernetes/overlays');
  return host
    .list(specsDir('applications'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .filter((name) => envs.some((env) => host.isFile(`${environmentPaths('applications', name, env).overlay}/generated/${LINKS_POLICY_FILE}`)));
}
