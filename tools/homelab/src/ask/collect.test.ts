import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateApp } from '../app/generate';
import { appAsked, NX_APP_DOOR, PLOP_APP_DOOR } from '../app/questions';
import { CATALOG } from '../component/catalog';
import { INFRA_ASKED, NX_INFRA_DOOR } from '../component/questions';
import { COMPONENT_NAMES } from '../component/types';
import { InputError } from '../errors';
import { type FileHost, treeHost } from '../host';
import { plopAnswers } from '../plop/generator';
import { ENVIRONMENT_ASKED, environmentFromOptions, NX_ENVIRONMENT_DOOR } from '../workspace/environment';
import { inputErrorOf, specOf, writeSpec } from '../../../../tests/support/spec';
import { workspaceTree } from '../../../../tests/support/workspace';
import { type Asker, collectAnswers, listChoices } from './collect';
import { type Answers, readQuestions } from './questions';

/**
 * The re-ask loop both front doors run, driven by a scripted asker: it stands in for the
 * terminal only (what a person types, and what the terminal shows), and refuses to answer a
 * question it has no line for. The real terminal runs in tests/ask.e2e.test.ts.
 */
function scripted(lines: string[]): { asker: Asker; screen: string[] } {
  const screen: string[] = [];
  const asker: Asker = {
    async ask(question, choices) {
      screen.push(`? ${question.message}`, ...choices.map((c) => `  ${c.value}: ${c.description}`));
      const typed = lines.shift();
      if (typed === undefined) throw new Error(`the script has no answer left for "${question.message}"`);
      screen.push(`> ${typed}`);
      return typed;
    },
    tell(reason) {
      screen.push(`✖ ${reason}`);
    },
  };
  return { asker, screen };
}

const generators = path.resolve(__dirname, '../../../../generators');
const appQuestions = (host: FileHost) => readQuestions(path.join(generators, 'app/schema.json'), appAsked(host));
const infraQuestions = () => readQuestions(path.join(generators, 'infra/schema.json'), INFRA_ASKED);

function workspace(): FileHost {
  return treeHost(workspaceTree().tree);
}

describe('asking an app, as nx g homelab:app and plop app do on a terminal', () => {
  it('re-asks a wrong name, image, port and environment with the reason, and goes on with the right answer', async () => {
    const host = workspace();
    const { asker, screen } = scripted(['Foo', 'web', 'nginx', 'nginx:1.27.3', '70000', '8080', '', '', '', 'staging', 'dev']);

    const answers = await collectAnswers(appQuestions(host), { given: {}, asker }, NX_APP_DOOR);

    expect(answers).toEqual({ name: 'web', image: 'nginx:1.27.3', port: '8080', environments: 'dev', force: false });
    expect(screen.filter((line) => line.startsWith('✖'))).toEqual([
      '✖ app name "Foo" is not a DNS-1123 label; use 1-53 lower-case letters, digits and \'-\', starting with a letter (e.g. "whoami")',
      '✖ --image "nginx" has no tag; pin it, e.g. "traefik/whoami:v1.10.4" or "repo@sha256:<64 hex>"',
      '✖ --port "70000" is not a port; use a whole number from 1 to 65535 (the port the container listens on)',
      '✖ --environments "staging" is not an environment of this workspace; use one of "dev", "prod" or add it with nx g homelab:environment',
    ]);
    // Each wrong answer is followed by its reason and the same question again.
    expect(screen.slice(0, 6)).toEqual([
      '? What is the app called (e.g. whoami)?',
      '> Foo',
      expect.stringMatching(/^✖ app name "Foo"/),
      '? What is the app called (e.g. whoami)?',
      '> web',
      '? Which image, with a pinned tag or digest (e.g. traefik/whoami:v1.10.4)?',
    ]);
  });

  it('lists the environments of homelab.yaml, one line each, with the environments question', async () => {
    const { asker, screen } = scripted(['web', 'nginx:1.27.3', '80', '', '', '', '']);
    await collectAnswers(appQuestions(workspace()), { given: {}, asker }, NX_APP_DOOR);
    const at = screen.indexOf('? Which environments, comma-separated (empty for every one)?');
    expect(screen.slice(at + 1, at + 3)).toEqual([
      '  dev: the cluster ArgoCD runs in, the local Docker engine',
      '  prod: protected, the cluster ArgoCD runs in, the local Docker engine',
    ]);
  });

  it('refuses a wrong secret, volume and host as typed, with the core\'s reason', async () => {
    const { asker, screen } = scripted(['web', 'nginx:1.27.3', '80', '1KEY', 'API_TOKEN', 'data:1Gi', 'data:1Gi:/data', 'Web.Example', 'web.home.example.org', '']);
    const answers = await collectAnswers(appQuestions(workspace()), { given: {}, asker }, NX_APP_DOOR);
    expect(answers).toMatchObject({ secrets: 'API_TOKEN', volumes: 'data:1Gi:/data', host: 'web.home.example.org' });
    expect(screen.filter((line) => line.startsWith('✖')).map((line) => line.split(';')[0])).toEqual([
      '✖ --secrets key "1KEY" is not an environment variable name',
      '✖ --volumes entry "data:1Gi" is not name:size:/mount',
      '✖ --host "Web.Example" is not a host name',
    ]);
  });

  it.each<[string, string, Answers]>([
    ['name', 'Foo', {}],
    ['image', 'nginx', {}],
    ['image', 'nginx:latest', {}],
    ['port', '70000', {}],
    ['port', 'http', {}],
    ['secrets', 'A,A', {}],
    ['volumes', 'Data:1Gi:/data', {}],
    ['host', 'localhost', {}],
    ['environments', 'staging', {}],
  ])('refuses %s %j typed with the very words the core uses for it on the command line', async (name, wrong) => {
    const host = workspace();
    const question = appQuestions(host).find((q) => q.name === name)!;
    const valid = { name: 'web', image: 'nginx:1.27.3', port: 80 };
    const fromCore = inputErrorOf(() => generateApp(host, { ...valid, [name]: wrong }));
    expect(() => question.check!(wrong, {})).toThrow(InputError);
    expect(inputErrorOf(() => question.check!(wrong, {}))).toBe(fromCore);
  });

  it('re-asks the name of an existing app with the hint to pass --force, and takes it when --force is given', async () => {
    const host = workspace();
    writeSpec(host, specOf('web'));
    const fresh = scripted(['web', 'other', 'nginx:1.27.3', '80']);
    await expect(collectAnswers(appQuestions(host), { given: { port: 80, image: 'nginx:1.27.3' }, asker: fresh.asker }, NX_APP_DOOR)).resolves.toMatchObject({ name: 'other' });
    expect(fresh.screen).toContain('✖ app "web" already exists (applications/specs/web.yaml); pass --force to re-render it from these answers, or pick another name');

    const forced = scripted(['web']);
    await expect(collectAnswers(appQuestions(host), { given: { port: 80, image: 'nginx:1.27.3', force: true }, asker: forced.asker }, NX_APP_DOOR)).resolves.toMatchObject({
      name: 'web',
      force: true,
    });
  });

  it('re-asks a required question left empty', async () => {
    const { asker, screen } = scripted(['', 'web']);
    const answers = await collectAnswers(appQuestions(workspace()), { given: { image: 'nginx:1.27.3', port: 80 }, asker }, NX_APP_DOOR);
    expect(answers.name).toBe('web');
    expect(screen[2]).toBe('✖ app name "" is not a DNS-1123 label; use 1-53 lower-case letters, digits and \'-\', starting with a letter (e.g. "whoami")');
  });

  it('asks only the missing required questions when the command line gives some answers', async () => {
    const { asker, screen } = scripted(['8080']);
    const answers = await collectAnswers(appQuestions(workspace()), { given: { name: 'web', image: 'nginx:1.27.3', force: false }, asker }, NX_APP_DOOR);
    expect(screen.filter((line) => line.startsWith('?'))).toEqual(['? Which port does it serve HTTP on?']);
    expect(answers).toEqual({ name: 'web', image: 'nginx:1.27.3', port: '8080', force: false });
  });

  it('asks every question but the --force flag when the command line gives nothing but defaults (as Nx passes them)', async () => {
    const { asker, screen } = scripted(['web', 'nginx:1.27.3', '80', '', '', '', '']);
    await collectAnswers(appQuestions(workspace()), { given: { force: false }, asker }, NX_APP_DOOR);
    expect(screen.filter((line) => line.startsWith('?'))).toHaveLength(7);
    expect(screen.join('\n')).not.toContain('Re-render an existing app');
  });

  it('asks plop app the same questions in the same words as nx g homelab:app', async () => {
    const lines = ['Foo', 'web', 'nginx', 'nginx:1.27.3', '70000', '8080', '', '', '', ''];
    const nx = scripted([...lines]);
    const plop = scripted([...lines]);
    const host = workspace();
    const fromNx = await collectAnswers(appQuestions(host), { given: { force: false }, asker: nx.asker }, NX_APP_DOOR);
    const argv = ['node', 'plop.js', '--plopfile', 'plopfile.ts', 'app'];
    const fromPlop = await plopAnswers(appQuestions(host), { argv, asker: plop.asker });
    expect(plop.screen).toEqual(nx.screen);
    expect(fromPlop).toEqual(fromNx);
  });
});

describe('when nobody can be asked', () => {
  it('refuses the missing answers in one line naming them, why and a command that works', async () => {
    await expect(collectAnswers(appQuestions(workspace()), { given: { name: 'web' }, cannotAsk: 'CI is set' }, NX_APP_DOOR)).rejects.toThrow(
      new InputError('nx g homelab:app is missing --image, --port and cannot ask (CI is set); pass them, e.g. npx nx g homelab:app whoami --image traefik/whoami:v1.10.4 --port 80'),
    );
    const argv = ['node', 'plop.js', 'app', '--', '--name', 'web', '--image', 'a:1'];
    await expect(plopAnswers(appQuestions(workspace()), { argv, cannotAsk: 'there is no terminal to ask on' })).rejects.toThrow(
      `plop app is missing --port and cannot ask (there is no terminal to ask on); pass it, e.g. ${PLOP_APP_DOOR.example}`,
    );
  });

  it('takes the given answers with the schema defaults filled in', async () => {
    await expect(collectAnswers(appQuestions(workspace()), { given: { name: 'web', image: 'a:1', port: 80 }, cannotAsk: 'CI is set' }, NX_APP_DOOR)).resolves.toEqual({
      name: 'web',
      image: 'a:1',
      port: 80,
      force: false,
    });
  });

  it('refuses nx g homelab:infra without a component with the catalog listed, one line each', async () => {
    const refused = collectAnswers(infraQuestions(), { given: { staging: false, force: false }, cannotAsk: '--no-interactive is given' }, NX_INFRA_DOOR);
    await expect(refused).rejects.toThrow(InputError);
    const lines = String(await refused.catch((error: Error) => error.message)).split('\n');
    expect(lines[0]).toBe('nx g homelab:infra is missing --component and cannot ask (--no-interactive is given); pass it, e.g. npx nx g homelab:infra monitoring');
    expect(lines[1]).toBe('--component is one of:');
    expect(lines.slice(2)).toHaveLength(COMPONENT_NAMES.length);
    for (const [i, name] of COMPONENT_NAMES.entries()) {
      expect(lines[2 + i]).toMatch(new RegExp(`^  ${name} +${CATALOG[name].description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    }
  });
});

describe('asking for an infrastructure component', () => {
  it('lists the catalog with the question and re-asks a component it does not hold', async () => {
    const { asker, screen } = scripted(['mysql', 'postgres']);
    const answers = await collectAnswers(infraQuestions(), { given: { staging: false, force: false }, asker }, NX_INFRA_DOOR);
    expect(answers).toEqual({ component: 'postgres', staging: false, force: false });
    expect(screen.slice(1, 1 + COMPONENT_NAMES.length)).toEqual(COMPONENT_NAMES.map((name) => `  ${name}: ${CATALOG[name].description}`));
    expect(screen).toContain(`✖ component "mysql" is not in the catalog; use one of ${COMPONENT_NAMES.map((c) => `"${c}"`).join(', ')}`);
  });
});

describe('asking for an environment name', () => {
  const environmentQuestions = () => readQuestions(path.join(generators, 'environment/schema.json'), ENVIRONMENT_ASKED);

  it('re-asks a name that is not one, with the reason nx g homelab:environment gives on the command line', async () => {
    const { asker, screen } = scripted(['Staging', 'staging']);
    await expect(collectAnswers(environmentQuestions(), { given: {}, asker }, NX_ENVIRONMENT_DOOR)).resolves.toEqual({ name: 'staging' });
    expect(screen).toEqual([
      '? What is the environment called (e.g. staging)?',
      '> Staging',
      `✖ ${inputErrorOf(() => environmentFromOptions({ name: 'Staging' }))}`,
      '? What is the environment called (e.g. staging)?',
      '> staging',
    ]);
  });

  it('refuses a missing name in one line when nobody can answer', async () => {
    await expect(collectAnswers(environmentQuestions(), { given: {}, cannotAsk: 'CI is set' }, NX_ENVIRONMENT_DOOR)).rejects.toThrow(
      new InputError('nx g homelab:environment is missing --name and cannot ask (CI is set); pass it, e.g. npx nx g homelab:environment staging'),
    );
  });
});

describe('listChoices', () => {
  it('aligns the descriptions after the longest value', () => {
    expect(listChoices([{ value: 'dev', description: 'one' }, { value: 'staging', description: 'two' }])).toBe('  dev      one\n  staging  two');
  });
});
