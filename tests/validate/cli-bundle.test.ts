import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { run } from '../support/tools';
import { makeTempDir, removeDir, REPO_ROOT } from '../support/workspace';

// The loader is plain CommonJS (it runs before any TypeScript loader): required as it is.
const bundle = require('../../tools/homelab/src/bundle/load.js') as {
  digestOf(inputs: string[]): string | null;
  freshBundle(entry: { file: string; kind: string }, env: NodeJS.ProcessEnv): string | null;
};
const CLI = { file: path.join(REPO_ROOT, 'tools/homelab/src/cli/main.ts'), kind: 'cli' };

const BIN = path.join(REPO_ROOT, 'tools/homelab/bin/homelab.js');
const FIXTURES = path.join(__dirname, 'fixtures');
const ARGS = ['validate', 'invalid', 'valid', '--skip', 'render', '--format', 'json'];

describe('the homelab command as one cached bundle (tools/homelab/src/bundle/load.js)', () => {
  let cache: string | undefined;
  afterEach(() => removeDir(cache));
  const homelab = (env: NodeJS.ProcessEnv) => run(process.execPath, [BIN, ...ARGS], { cwd: FIXTURES, env: { ...process.env, NO_COLOR: '1', ...env } });

  it('builds the bundle on the first run, runs it on the next, and prints what the sources through tsx print', () => {
    cache = makeTempDir('cli-bundle');
    const sources = homelab({ HOMELAB_CLI_BUNDLE: '0', HOMELAB_DEBUG: 'cli' });
    expect(sources.stderr).toBe('homelab: running the sources through tsx (HOMELAB_CLI_BUNDLE=0)\n');
    const first = homelab({ HOMELAB_CACHE_DIR: cache, HOMELAB_DEBUG: 'cli' });
    const second = homelab({ HOMELAB_CACHE_DIR: cache, HOMELAB_DEBUG: 'cli' });
    const built = fs.readdirSync(path.join(cache, 'cli'));
    expect(built.filter((f) => f.endsWith('.js'))).toHaveLength(1);
    for (const r of [first, second]) {
      expect(r.stderr).toBe(`homelab: running the bundle ${path.join(cache, 'cli', built.find((f) => f.endsWith('.js'))!)}\n`);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe(sources.stdout);
    }
    expect(JSON.parse(sources.stdout).findings.length).toBeGreaterThan(10);
  });

  it('falls back to the sources through tsx, with the same output, when the cache cannot be written', () => {
    cache = makeTempDir('cli-bundle');
    const notAFolder = path.join(cache, 'file');
    fs.writeFileSync(notAFolder, '');
    const r = homelab({ HOMELAB_CACHE_DIR: notAFolder, HOMELAB_DEBUG: 'cli' });
    expect(r.stderr).toMatch(/^homelab: running the sources through tsx \(no bundle: .*ENOTDIR.*\)\n$/);
    expect(r.stdout).toBe(homelab({ HOMELAB_CLI_BUNDLE: '0' }).stdout);
  });

  it('is used only while every file it was built from is unchanged', () => {
    cache = makeTempDir('cli-bundle');
    homelab({ HOMELAB_CACHE_DIR: cache });
    const env = { HOMELAB_CACHE_DIR: cache };
    const fresh = bundle.freshBundle(CLI, env);
    expect(fresh).not.toBeNull();
    // The manifest names the files the bundle holds; one of them edited (here: a copy the manifest is pointed at), the bundle is stale.
    const [manifestName] = fs.readdirSync(path.join(cache, 'cli')).filter((f) => f.endsWith('.json'));
    const manifestFile = path.join(cache, 'cli', manifestName);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as { digest: string; inputs: string[] };
    expect(manifest.inputs).toContain(path.join(REPO_ROOT, 'tools/homelab/src/validate/engine.ts'));
    const copy = path.join(cache, 'engine.ts');
    fs.copyFileSync(manifest.inputs[0], copy);
    const inputs = [copy, ...manifest.inputs.slice(1)];
    const digest = bundle.digestOf(inputs)!;
    fs.copyFileSync(fresh!, path.join(cache, 'cli', `${digest}.js`));
    fs.writeFileSync(manifestFile, JSON.stringify({ ...manifest, digest, inputs }));
    expect(bundle.freshBundle(CLI, env)).toBe(path.join(cache, 'cli', `${digest}.js`));
    fs.appendFileSync(copy, '\n// edited\n');
    expect(bundle.freshBundle(CLI, env)).toBeNull();
  });
});
