import YAML from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { quickCoreDocument } from '../tools/homelab/src/import/compose/yaml';
import { assertParsesBack } from '../tools/homelab/src/render/engine';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { diskHost } from '../tools/homelab/src/host';
import { GOLDEN_WORKSPACES as WORKSPACES } from './support/golden';
import { diskFiles, makeDiskWorkspace, removeDir } from './support/workspace';
import { yamlMutations } from './support/yaml-mutations';

/**
 * Every byte homelab renders, pinned: three workspaces (each backup provider, both ingress
 * kinds) with every catalog component, a secret store, an extra environment and apps that
 * use every field of the app spec, rendered in-process and compared with a reviewed snapshot
 * of every file. A change of the model or the templates that changes any rendered file shows
 * here, file by file; a refactor must leave it untouched. Update it only for a change meant to
 * reach every homelab (`npx vitest run tests/render-golden.test.ts -u`, then review the diff).
 */

const roots: string[] = [];
afterAll(() => roots.forEach(removeDir));

/** Every file of the workspace, one after the other, each under a header naming it. */
function renderedTree(root: string): string {
  return Object.entries(diskFiles(root))
    .map(([file, content]) => `=== ${file}\n${content}${content.endsWith('\n') ? '' : '\n(no newline at the end)\n'}`)
    .join('');
}

describe('every rendered byte', () => {
  it.each(WORKSPACES)('of the $id workspace matches its reviewed snapshot', async ({ id, homelabYaml, fill }) => {
    const root = makeDiskWorkspace(`golden-${id}`, homelabYaml);
    roots.push(root);
    fill(root);
    await expect(renderedTree(root)).toMatchFileSnapshot(`__snapshots__/render-golden/${id}.txt`);
    // Rendering again from the same specs changes nothing.
    expect(syncAll(diskHost(root), true)).toEqual([]);
  });
});

/** What the yaml package reads from a rendered file (the documents' values), or that it refuses it. */
function yamlReading(content: string): unknown {
  const docs = YAML.parseAllDocuments(content, { uniqueKeys: true });
  if (docs.some((d) => d.errors.length > 0 || d.warnings.length > 0)) return 'refused';
  try {
    return docs.map((d) => d.toJS());
  } catch {
    return 'refused';
  }
}

function parsedBack(content: string): unknown {
  try {
    return assertParsesBack('x.yaml', content);
  } catch {
    return 'refused';
  }
}

describe('rendered files parsed back', () => {
  it.each(WORKSPACES)('read as the yaml package reads them, every YAML file of the $id workspace and 1,500 mutations of them', ({ id, homelabYaml, fill }) => {
    const root = makeDiskWorkspace(`golden-parse-${id}`, homelabYaml);
    roots.push(root);
    fill(root);
    const texts = Object.entries(diskFiles(root))
      .filter(([file]) => /\.ya?ml$/.test(file))
      .map(([, content]) => content);
    // Most go js-yaml's way (quickCoreDocument), or the fast path would be tested on nothing.
    expect(texts.filter((t) => quickCoreDocument(t) !== undefined).length).toBeGreaterThan(texts.length * 0.8);
    for (const text of texts) expect(parsedBack(text), text).toEqual(yamlReading(text));
    let refused = 0;
    for (const text of yamlMutations(texts, 1500, 17, [' ', ':', '-', '"', "'", '#', '[', '{', '&', '*', '!', '\t', '?', '|', '>'])) {
      const expected = yamlReading(text);
      if (expected === 'refused') refused++;
      expect(parsedBack(text), text).toEqual(expected);
    }
    // The mutations reach both answers.
    expect(refused).toBeGreaterThan(100);
  });
});
