import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import YAML from 'yaml';
import { diskFiles, FRESH_HOMELAB, populateWorkspace, REPO_ROOT } from '../../scripts/lib/temp-workspace';

/** The repository root: for the tool's own files (sources, schemas, docs), never its homelab content. */
export { REPO_ROOT };

/** Every file below a folder (except node_modules, .nx, .git) as relative path -> content, sorted. */
export { diskFiles };

/**
 * The workspace settings of a fresh clone (dev, and prod protected), from a fixture: the
 * repository's own homelab.yaml belongs to its owner's homelab and changes with it.
 */
export const WORKSPACE_YAML = fs.readFileSync(path.join(FRESH_HOMELAB, 'homelab.yaml'), 'utf8');

/** The answers of the README's demo command, reused across tests. */
export const WHOAMI = { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80 } as const;

export interface TestTree {
  tree: Tree;
  /**
   * Changes made to the tree since it was set up, as `path type`, sorted. The seeded
   * workspace files count as CREATE in `tree.listChanges()`; this leaves them out, so
   * "the generator wrote nothing" is `expect(changes()).toEqual([])`.
   */
  changes(): string[];
}

/**
 * An in-memory Nx workspace with the repo's homelab.yaml. createTreeWithEmptyWorkspace
 * seeds .oxfmtrc.json (formatFiles then warns): it is deleted.
 */
export function workspaceTree(homelabYaml: string = WORKSPACE_YAML): TestTree {
  const tree = createTreeWithEmptyWorkspace();
  tree.delete('.oxfmtrc.json');
  tree.write('homelab.yaml', homelabYaml);
  const key = (c: { path: string; type: string; content: Buffer | null }) => `${c.path} ${c.type} ${c.content?.toString('base64') ?? ''}`;
  const baseline = new Set(tree.listChanges().map(key));
  return {
    tree,
    changes: () =>
      tree
        .listChanges()
        .filter((c) => !baseline.has(key(c)))
        .map((c) => `${c.path} ${c.type}`)
        .sort(),
  };
}

/** Every file of the tree below `dir` ('' for all), as path -> content, sorted by path. */
export function treeFiles(tree: Tree, dir = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of tree.children(d)) {
      const child = d === '' ? entry : `${d}/${entry}`;
      if (tree.isFile(child)) out[child] = tree.read(child, 'utf-8') ?? '';
      else walk(child);
    }
  };
  walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Reads a file of the tree, failing the test with the path when it is missing. */
export function readText(tree: Tree, file: string): string {
  const text = tree.read(file, 'utf-8');
  if (text === null) throw new Error(`expected ${file} to exist in the tree`);
  return text;
}

export type YamlVersion = '1.1' | '1.2';

/**
 * Parses every document of a YAML text strictly (syntax errors, warnings and duplicate
 * keys fail). `version: '1.1'` reads it the way kubectl (sigs.k8s.io/yaml, YAML 1.1) does:
 * `yes`, `on`, `1_000` or `2001-12-14` are then not strings.
 */
export function parseDocs(text: string, version: YamlVersion = '1.2'): any[] {
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false, version });
  if (!Array.isArray(docs)) return [];
  for (const doc of docs) {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw new Error(`YAML does not parse: ${problem.message}`);
  }
  return docs.map((d) => d.toJS({ maxAliasCount: -1 }));
}

/** Parses a YAML text that must hold exactly one document. */
export function parseDoc(text: string, version: YamlVersion = '1.2'): any {
  const docs = parseDocs(text, version);
  if (docs.length !== 1) throw new Error(`expected one YAML document, got ${docs.length}`);
  return docs[0];
}

/** The documents of a YAML file of the tree. */
export function readDocs(tree: Tree, file: string, version: YamlVersion = '1.2'): any[] {
  return parseDocs(readText(tree, file), version);
}

/** The single document of a YAML file of the tree. */
export function readDoc(tree: Tree, file: string, version: YamlVersion = '1.2'): any {
  return parseDoc(readText(tree, file), version);
}

/** A fresh temporary folder; remove it with removeDir in afterAll/afterEach. */
export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `homelab-${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Fills `dest` with a fresh homelab workspace (the tool, the homelab content of a fresh
 * clone, linked node_modules), so that the real `npx nx` runs there without touching the
 * repository. `homelabYaml` replaces the fixture's homelab.yaml.
 */
export function copyWorkspace(dest: string, homelabYaml?: string): void {
  fs.mkdirSync(dest, { recursive: true });
  populateWorkspace(dest, homelabYaml);
}

/** A temp dir holding only homelab.yaml: enough for generateApp(diskHost(dir)) (templates come from the repo). */
export function makeDiskWorkspace(prefix: string, homelabYaml: string = WORKSPACE_YAML): string {
  const dir = makeTempDir(prefix);
  fs.writeFileSync(path.join(dir, 'homelab.yaml'), homelabYaml);
  return dir;
}

/** homelab.yaml with some settings replaced, for workspaces that use another backup provider or ingress kind. */
export function workspaceYamlWith(patch: (config: any) => void): string {
  const doc = YAML.parseDocument(WORKSPACE_YAML);
  const config = doc.toJS();
  patch(config);
  return YAML.stringify(config);
}

/**
 * The files of a render snapshot (a frozen workspace of tests/support/fixtures): `=== <path>`
 * headers, each followed by the file's text, as render-golden.test.ts writes them.
 */
export function unpackRender(text: string): Record<string, string> {
  const files: Record<string, string> = {};
  const parts = text.split(/^=== (.+)\n/m);
  for (let i = 1; i < parts.length; i += 2) {
    const body = parts[i + 1];
    const cut = '(no newline at the end)\n';
    files[parts[i]] = body.endsWith(cut) ? body.slice(0, -cut.length - 1) : body;
  }
  return files;
}

/**
 * Every file of a full homelab as homelab 0.1 wrote it (every catalog component, a secret store,
 * an extra environment, apps using every field of the 0.1 spec), frozen from 0.1's reviewed render
 * snapshot and never regenerated: what owners have in their repositories. The workspace of the
 * previous format the upgrade and migration tests start from.
 */
export const HOMELAB_01 = path.join(__dirname, 'fixtures/homelab-0.1/workspace.txt');

/** Files of HOMELAB_01, by path, as 0.1 wrote them; a path it does not hold throws. */
export function homelab01Files(...files: string[]): Record<string, string> {
  const all = unpackRender(fs.readFileSync(HOMELAB_01, 'utf8'));
  return Object.fromEntries(
    files.map((file) => {
      if (!(file in all)) throw new Error(`${file} is not in ${path.basename(path.dirname(HOMELAB_01))}`);
      return [file, all[file]];
    }),
  );
}

/**
 * Gives a workspace with linked node_modules a copy of nx, as `npm ci` gives one: Nx's
 * `migrate` re-runs itself from the workspace's own nx when the nx it runs from lies outside
 * the workspace, which a link resolves to (and so it would re-run itself forever).
 */
export function ownNx(root: string): void {
  fs.rmSync(path.join(root, 'node_modules/nx'));
  fs.cpSync(path.join(REPO_ROOT, 'node_modules/nx'), path.join(root, 'node_modules/nx'), { recursive: true, dereference: true });
}
