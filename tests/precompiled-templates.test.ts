import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PRECOMPILED_TEMPLATES, precompiledTemplatesSource } from '../scripts/build-templates';
import { normalizeApp } from '../tools/homelab/src/app/normalize';
import { renderKubernetesDrill } from '../tools/homelab/src/backup/kubernetes-drill';
import { diskHost } from '../tools/homelab/src/host';
import { renderStore, STORE_PROVIDERS, storeSpecFromOptions, type StoreOptions } from '../tools/homelab/src/platform/secret-store';
import { renderApp } from '../tools/homelab/src/render/app';
import { type RenderedFile, templateCounts, TEMPLATES_DIR } from '../tools/homelab/src/render/engine';
import { parseWorkspaceConfig } from '../tools/homelab/src/spec/io';
import type { AppSpec } from '../tools/homelab/src/spec/types';
import { syncAll } from '../tools/homelab/src/workspace/sync';
import { GOLDEN_WORKSPACES } from './support/golden';
import { renderedStacks, specOf, writePatchedStack, writeSpec } from './support/spec';
import { diskFiles, makeDiskWorkspace, makeTempDir, removeDir, WORKSPACE_YAML } from './support/workspace';

/**
 * The templates compiled ahead of time (scripts/build-templates.ts) render every fixture byte for
 * byte as the templates compiled at run time do (`HOMELAB_TEMPLATES=compile`, the path before),
 * and a template edited in a workspace still renders as edited.
 */

const roots: string[] = [];
afterAll(() => roots.forEach(removeDir));
afterEach(() => delete process.env.HOMELAB_TEMPLATES);

/** Runs `render` with the templates precompiled (the default) or compiled at run time, and counts which way they were taken. */
function renderedWith<T>(mode: 'precompiled' | 'compile', render: () => T): { result: T; precompiled: number; compiled: number } {
  if (mode === 'compile') process.env.HOMELAB_TEMPLATES = 'compile';
  else delete process.env.HOMELAB_TEMPLATES;
  const before = { ...templateCounts };
  try {
    const result = render();
    return { result, precompiled: templateCounts.precompiled - before.precompiled, compiled: templateCounts.compiled - before.compiled };
  } finally {
    delete process.env.HOMELAB_TEMPLATES;
  }
}

/** A fixture workspace filled in a new folder: every file it holds once filled. */
function filled(id: string, homelabYaml: string, fill: (root: string) => void): Record<string, string> {
  const root = makeDiskWorkspace(`precompiled-${id}`, homelabYaml);
  roots.push(root);
  fill(root);
  return diskFiles(root);
}

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const contents = (files: RenderedFile[]) => Object.fromEntries(files.map((f) => [f.path, f.content]));

/** Every fixture that renders workspaces: the golden ones and one of every census stack with the patched stack. */
const WORKSPACES = [
  ...GOLDEN_WORKSPACES,
  {
    id: 'census',
    homelabYaml: WORKSPACE_YAML,
    fill: (root: string) => {
      const host = diskHost(root);
      for (const spec of renderedStacks()) writeSpec(host, spec);
      writePatchedStack(host);
      syncAll(host);
    },
  },
];

describe('precompiled templates (scripts/build-templates.ts)', () => {
  it('are built from the current templates (run `npm run build:templates` after editing one)', () => {
    expect(fs.readFileSync(PRECOMPILED_TEMPLATES, 'utf8') === precompiledTemplatesSource()).toBe(true);
  });

  // Each workspace is filled in the same process both ways; a template is compiled once per way and process.
  it.each(WORKSPACES)('render the $id workspace byte for byte as the templates compiled at run time do', ({ id, homelabYaml, fill }) => {
    const fast = renderedWith('precompiled', () => filled(`${id}-fast`, homelabYaml, fill));
    const slow = renderedWith('compile', () => filled(`${id}-slow`, homelabYaml, fill));

    expect(Object.keys(fast.result).length).toBeGreaterThan(20);
    expect(fast.result).toEqual(slow.result);
    expect(fast.compiled).toBe(0);
    expect(slow.precompiled).toBe(0);
  });

  /** Each provider's store, with the options it requires (and 1Password's Connect mode besides its default). */
  const STORES: StoreOptions[] = [
    { provider: 'onepassword' },
    { provider: 'onepassword', mode: 'connect' },
    { provider: 'bitwarden', organization: 'org-id', project: 'project-id' },
    { provider: 'vault', server: 'https://vault.home.example.org:8200' },
    { provider: 'doppler', project: 'homelab', config: 'prd' },
    { provider: 'infisical', project: 'homelab' },
    { provider: 'kubernetes' },
  ];

  it('cover the store of every provider', () => {
    expect(new Set(STORES.map((s) => s.provider))).toEqual(new Set(STORE_PROVIDERS));
  });

  it.each(STORES.map((options) => ({ label: options.mode ? `${options.provider} (${options.mode})` : options.provider, options })))('render the $label secret store as the templates compiled at run time do', ({ options }) => {
    const spec = storeSpecFromOptions(options);
    const fast = renderedWith('precompiled', () => renderStore(spec));
    const slow = renderedWith('compile', () => renderStore(spec));

    expect(fast.result.content).toContain('kind: ClusterSecretStore');
    expect(fast.result).toEqual(slow.result);
    expect(fast.compiled).toBe(0);
  });

  it('render a restore drill as the templates compiled at run time do', () => {
    const app = normalizeApp(specOf('files', { volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }] }), workspace, new Map());
    const fast = renderedWith('precompiled', () => renderKubernetesDrill(app, 'dev', workspace));
    const slow = renderedWith('compile', () => renderKubernetesDrill(app, 'dev', workspace));

    expect(fast.result.files.length).toBeGreaterThan(0);
    expect(fast.result).toEqual(slow.result);
    expect(fast.compiled).toBe(0);
  });
});

describe("Handlebars' compiler", () => {
  /** Renders an app in a new process (templates precompiled or compiled) and tells whether Handlebars' compiler was loaded. */
  function compilerLoaded(mode: 'precompiled' | 'compile'): boolean {
    const script = [
      "const { normalizeApp } = require('./tools/homelab/src/app/normalize');",
      "const { renderApp } = require('./tools/homelab/src/render/app');",
      "const { parseWorkspaceConfig } = require('./tools/homelab/src/spec/io');",
      `const files = renderApp(normalizeApp(${JSON.stringify(specOf('web'))}, parseWorkspaceConfig(${JSON.stringify(WORKSPACE_YAML)}), new Map()));`,
      "if (files.length < 10) throw new Error('rendered ' + files.length + ' files');",
      "console.log(JSON.stringify(Object.keys(require.cache).some((k) => /[\\\\/]handlebars[\\\\/]dist[\\\\/]cjs[\\\\/]handlebars[\\\\/]compiler[\\\\/]/.test(k))));",
    ].join('\n');
    const env = { ...process.env, HOMELAB_TEMPLATES: mode === 'compile' ? 'compile' : '' };
    const child = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: path.resolve(__dirname, '..'), env, encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    return JSON.parse(child.stdout.trim().split('\n').pop()!) as boolean;
  }

  it('is not loaded to render with the precompiled templates, and is where a template is compiled', () => {
    expect(compilerLoaded('precompiled')).toBe(false);
    expect(compilerLoaded('compile')).toBe(true);
  });
});

describe('a template edited in the workspace', () => {
  const dir = makeTempDir('edited-templates');
  afterAll(() => removeDir(dir));
  fs.cpSync(TEMPLATES_DIR, dir, { recursive: true });
  const app = normalizeApp(specOf('web', { volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }] }) as AppSpec, workspace, new Map());
  const original = contents(renderApp(app));

  it('takes the precompiled templates while a copy of the folder is unchanged', () => {
    const copy = renderedWith('precompiled', () => contents(renderApp(app, dir)));

    expect(copy.result).toEqual(original);
    expect(copy.precompiled).toBeGreaterThan(0);
    expect(copy.compiled).toBe(0);
  });

  it('renders as edited: the edited template and partial are compiled at run time, the others stay precompiled', () => {
    const service = path.join(dir, 'app/applications/kubernetes/base/__name__/service.yaml.hbs');
    fs.appendFileSync(service, '# edited in the workspace\n');
    const container = path.join(dir, 'app/_partials/container.hbs');
    fs.writeFileSync(container, fs.readFileSync(container, 'utf8').replace(/^(\s*)image: /m, '$1# the image, edited\n$1image: '));
    // A new folder path: nothing of the unedited copy is cached for it.
    const edited = path.join(path.dirname(dir), `${path.basename(dir)}-edited`);
    fs.renameSync(dir, edited);
    roots.push(edited);

    const render = renderedWith('precompiled', () => contents(renderApp(app, edited)));
    const base = 'applications/kubernetes/base/web';

    expect(render.compiled).toBe(2);
    expect(render.precompiled).toBeGreaterThan(10);
    expect(render.result[`${base}/service.yaml`]).toBe(`${original[`${base}/service.yaml`]}# edited in the workspace\n`);
    expect(render.result[`${base}/statefulset.yaml`]).toContain('# the image, edited\n');
    expect(render.result[`${base}/statefulset.yaml`]).not.toBe(original[`${base}/statefulset.yaml`]);
    expect(render.result[`${base}/kustomization.yaml`]).toBe(original[`${base}/kustomization.yaml`]);
  });
});
