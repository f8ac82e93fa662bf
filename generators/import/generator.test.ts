import * as fs from 'node:fs';
import * as path from 'node:path';
import { logger } from '@nx/devkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { localSecretsFile } from '../../tools/homelab/src/deploy/secrets';
import { diskHost } from '../../tools/homelab/src/host';
import { generateImport, type ImportContext } from '../../tools/homelab/src/import/generate';
import { parseAppSpec } from '../../tools/homelab/src/spec/io';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { inputErrorOf } from '../../tests/support/spec';
import { makeDiskWorkspace, removeDir, treeFiles, workspaceTree } from '../../tests/support/workspace';
import importGenerator from './generator';

/**
 * `nx g homelab:import` over the import core: the stack read, mapped, validated and rendered in
 * memory, then written; the secret values only to the local secrets file, after the files. The
 * stacks are the reader's fixtures (tests/support/fixtures/import), laid out as their owners keep
 * them. No Docker engine is asked here (engine: null): adopting a running stack's volumes is
 * tested on the real engine in tests/import/import.e2e.test.ts.
 */
const FIXTURES = path.join(__dirname, '../../tests/support/fixtures/import');
const GALLERY = path.join(FIXTURES, 'gallery/compose.yaml');
const RESOLVER = path.join(FIXTURES, 'resolver/compose.yaml');
/** The secret values the fixtures' .env and env files hold (fake). */
const SECRET_VALUES = ['fake-db-password-7Q2', 'fake search key with spaces'];

const ctx = (environment: Record<string, string> = {}): ImportContext => ({ cwd: FIXTURES, environment, engine: null });

let root: string;
beforeEach(() => {
  root = makeDiskWorkspace('homelab-import-generator-');
  vi.spyOn(logger, 'info').mockImplementation(() => undefined);
});
afterEach(() => {
  removeDir(root);
  vi.restoreAllMocks();
});

/** Every file under the workspace, relative, except the local secrets. */
function writtenFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk('');
  return out.filter((f) => !f.startsWith('.homelab/')).sort();
}

describe('homelab:import generator', () => {
  it('writes the spec and both trees of a stack, and its secret values only to the local secrets file (0600)', () => {
    const { result, lines, writeSecrets } = generateImport(diskHost(root), { name: 'gallery', file: GALLERY }, ctx());
    writeSecrets(root);

    const spec = parseAppSpec(fs.readFileSync(path.join(root, 'applications/specs/gallery.yaml'), 'utf8'), 'gallery.yaml');
    expect(Object.keys('services' in spec && spec.services ? spec.services : {}).sort()).toEqual(expect.arrayContaining(['server', 'database', 'cache']));
    expect(result.written).toEqual(expect.arrayContaining(['applications/specs/gallery.yaml', 'applications/compose/base/gallery/compose.yaml', 'applications/kubernetes/base/gallery/kustomization.yaml']));
    for (const file of writtenFiles()) {
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      for (const secret of SECRET_VALUES) expect(text, `${file} holds a secret value`).not.toContain(secret);
    }
    for (const line of lines) for (const secret of SECRET_VALUES) expect(line).not.toContain(secret);
    const secrets = localSecretsFile(root, 'gallery');
    expect(fs.statSync(secrets).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(secrets, 'utf8')).toContain("DB_PASSWORD='fake-db-password-7Q2'");
    const keys = fs.readFileSync(secrets, 'utf8').trim().split('\n').length;
    expect(lines).toContain(`${keys} secret value(s) of the stack go to .homelab/secrets/gallery.env (mode 0600, git-ignored), which deploy reads for keys the environment does not set`);
  });

  it('through Nx: writes the files into the Tree, and the secret values only in the callback Nx runs after it (never in a dry run)', async () => {
    const { tree } = workspaceTree();
    const callback = await importGenerator(tree, { name: 'resolver', file: RESOLVER });

    const files = Object.keys(treeFiles(tree));
    expect(files).toContain('applications/specs/resolver.yaml');
    expect(files).toContain('applications/compose/base/resolver/compose.yaml');
    expect(files.some((f) => f.startsWith('.homelab/'))).toBe(false);
    expect(typeof callback).toBe('function');
  });

  it.each([
    ['an app name that is not a DNS label', { name: 'Gallery', file: GALLERY }, /^app name "Gallery" is not a DNS-1123 label/],
    ['a missing --file', { name: 'gallery', file: '' }, /^--file is missing; name the Compose file to import/],
    ['a file that does not exist', { name: 'gallery', file: 'nowhere/compose.yaml' }, /^--file "nowhere\/compose.yaml" does not exist; name the stack's Compose file/],
    ['an env file that does not exist', { name: 'gallery', file: GALLERY, envFile: 'gallery/prod.env' }, /^--env-file "gallery\/prod.env" does not exist/],
    ['an environment to adopt in that homelab.yaml does not have', { name: 'gallery', file: GALLERY, adopt: 'staging' }, /^--adopt "staging" is not an environment of homelab.yaml \(dev, prod\); name one, or none/],
  ])('refuses %s in one line, and writes nothing', (_what, options, message) => {
    expect(inputErrorOf(() => generateImport(diskHost(root), options, ctx()))).toMatch(message);
    expect(writtenFiles()).toEqual(['homelab.yaml']);
  });

  it('refuses a name an app already has, and keeps that app as it was', () => {
    generateApp(diskHost(root), { name: 'gallery', image: 'traefik/whoami:v1.10.4', port: 80 });
    const before = writtenFiles().map((f) => `${f} ${fs.readFileSync(path.join(root, f), 'utf8').length}`);

    expect(inputErrorOf(() => generateImport(diskHost(root), { name: 'gallery', file: GALLERY }, ctx()))).toMatch(/^app "gallery" already exists/);
    expect(writtenFiles().map((f) => `${f} ${fs.readFileSync(path.join(root, f), 'utf8').length}`)).toEqual(before);
  });

  it('refuses a stack whose interpolation fails, naming the variable and never a value, and writes nothing', () => {
    // resolver needs WEB_PASSWORD (${WEB_PASSWORD:?…}); an env file without it replaces the .env beside the stack.
    const envFile = path.join(root, 'empty.env');
    fs.writeFileSync(envFile, 'TZ=Etc/UTC\n');
    const message = inputErrorOf(() => generateImport(diskHost(root), { name: 'resolver', file: RESOLVER, envFile }, ctx()));
    fs.rmSync(envFile);

    expect(message).toContain('WEB_PASSWORD');
    expect(message).not.toContain('\n');
    expect(writtenFiles()).toEqual(['homelab.yaml']);
  });

  it('says when no engine could be asked for the stack\'s volumes, and with --adopt none that it starts on new ones', () => {
    const asked = generateImport(diskHost(root), { name: 'gallery', file: GALLERY }, ctx());
    expect(asked.lines.some((l) => l.startsWith('note: no Docker engine answered here, so no volume of the stack'))).toBe(true);
  });
});
