import * as fs from 'node:fs';
import * as path from 'node:path';
import { flushChanges, FsTree } from 'nx/src/generators/tree';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import initGenerator from '../generators/init/generator';
import { createTempWorkspace } from '../scripts/lib/temp-workspace';
import { COMPONENT_NAMES } from '../tools/homelab/src/component/types';
import { nxTestEnv } from './support/nx';
import { Terminal } from './support/terminal';
import { requireTool } from './support/tools';

/**
 * `npx nx g homelab:app` and `npm run plop -- app` run by a person at a real terminal (a
 * pseudo-terminal from util-linux `script`), with no answer on the command line: each wrong
 * answer is refused with its reason on the screen and the question is asked again; the right
 * answers go on and the app is written.
 */

const script = requireTool('script', ['script', '--version']);

/** A person's shell: not CI, not inside an Nx task (the test run itself may be either). */
const PERSON = nxTestEnv({ CI: '', NX_TASK_TARGET_PROJECT: '' });

/** The questions, a wrong answer to each, the reason the terminal shows, and the right answer. */
const conversation = (name: string) => [
  { question: 'What is the app called (e.g. whoami)?', wrong: 'Foo', reason: 'app name "Foo" is not a DNS-1123 label', right: name },
  { question: 'Which image, with a pinned tag or digest (e.g. traefik/whoami:v1.10.4)?', wrong: 'nginx', reason: '--image "nginx" has no tag; pin it', right: 'nginx:1.27.3' },
  { question: 'Which port does it serve HTTP on?', wrong: '70000', reason: '--port "70000" is not a port; use a whole number from 1 to 65535', right: '8080' },
  { question: 'Which secret keys does it read', right: '' },
  { question: 'Which volumes does it keep', right: '' },
  { question: 'Which public host name', right: '' },
  { question: 'Which environments, comma-separated (empty for every one)?', wrong: 'staging', reason: '--environments "staging" is not an environment of this workspace', right: 'dev' },
];

async function converse(terminal: Terminal, name: string): Promise<void> {
  for (const turn of conversation(name)) {
    await terminal.waitFor(turn.question);
    if (turn.wrong !== undefined) {
      terminal.type(turn.wrong);
      await terminal.waitFor(`✖ ${turn.reason}`);
      await terminal.waitFor(turn.question);
    }
    terminal.type(turn.right);
  }
}

function expectWritten(root: string, name: string): void {
  const spec = YAML.parse(fs.readFileSync(path.join(root, `applications/specs/${name}.yaml`), 'utf8'));
  expect(spec).toMatchObject({ name, image: { repository: 'nginx', tag: '1.27.3' }, ports: [{ port: 8080 }], environments: { dev: {} } });
  expect(Object.keys(spec.environments)).toEqual(['dev']);
  expect(fs.existsSync(path.join(root, `applications/kubernetes/overlays/dev/${name}/kustomization.yaml`))).toBe(true);
  expect(fs.existsSync(path.join(root, `applications/kubernetes/overlays/prod/${name}`))).toBe(false);
}

describe.skipIf(script.skip)('interactive generators on a real terminal', () => {
  let root: string;

  beforeAll(() => {
    root = createTempWorkspace('homelab-ask-');
  });

  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('nx g homelab:app re-asks each wrong answer with its reason, lists the environments, and writes the app', async () => {
    const terminal = Terminal.start('npx nx g homelab:app', root, PERSON);
    await converse(terminal, 'web');

    expect(await terminal.exit(), terminal.screen).toBe(0);
    expect(terminal.screen).toMatch(/^ {2}prod +protected, the cluster ArgoCD runs in, the local Docker engine$/m);
    expect(terminal.screen).toContain('CREATE applications/specs/web.yaml');
    expect(terminal.screen).not.toContain('Re-render an existing app');
    expectWritten(root, 'web');
  });

  it('npm run plop -- app asks the same questions with the same checks, and writes the app', async () => {
    const terminal = Terminal.start('npm run plop -- app', root, PERSON);
    await converse(terminal, 'notes');

    expect(await terminal.exit(), terminal.screen).toBe(0);
    expect(terminal.screen).toContain('write  applications/specs/notes.yaml');
    expect(terminal.screen).not.toContain('Re-render an existing app');
    expectWritten(root, 'notes');
  });

  it('nx g homelab:infra lists the catalog one line each and re-asks a component it does not hold', async () => {
    // A component needs the ArgoCD bootstrap: init, in-process as `nx g` runs it.
    const tree = new FsTree(root, false);
    await initGenerator(tree, {});
    flushChanges(root, tree.listChanges());
    const terminal = Terminal.start('npx nx g homelab:infra --dry-run', root, PERSON);
    await terminal.waitFor('Which component of the catalog?');
    for (const name of COMPONENT_NAMES) expect(terminal.screen).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    terminal.type('mysql');
    await terminal.waitFor('✖ component "mysql" is not in the catalog');
    await terminal.waitFor('Which component of the catalog?');
    terminal.type('postgres');

    expect(await terminal.exit(), terminal.screen).toBe(0);
    expect(terminal.screen).toContain('CREATE infrastructure/specs/postgres.yaml');
    expect(fs.existsSync(path.join(root, 'infrastructure/specs/postgres.yaml')), 'a dry run writes nothing').toBe(false);
  });
});
