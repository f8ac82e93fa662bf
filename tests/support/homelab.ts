import * as fs from 'node:fs';
import * as path from 'node:path';
import { logger, type Tree } from '@nx/devkit';
import { flushChanges, FsTree } from 'nx/src/generators/tree';
import { vi } from 'vitest';
import appGenerator from '../../generators/app/generator';
import infraGenerator from '../../generators/infra/generator';
import secretStoreGenerator from '../../generators/secret-store/generator';
import { COMPONENT_NAMES } from '../../tools/homelab/src/component/types';
import { nxTestEnv } from './nx';
import { run, runOk } from './tools';
import { copyWorkspace, diskFiles } from './workspace';

/** The app of the README homelab that has secrets and needs PostgreSQL. */
export const NOTES = { name: 'notes', secrets: ['DATABASE_URL', 'API_TOKEN'] } as const;

/** `npx nx ...` in a workspace; throws with its output when it fails. */
export function nxIn(dir: string, ...args: string[]): string {
  const result = run('npx', ['nx', ...args], { cwd: dir, env: nxTestEnv(), timeout: 180_000 });
  if (result.status !== 0) throw new Error(`nx ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** Runs an Nx generator in-process the way `nx g` does: on a Tree over the folder, flushed at the end. */
async function generate<O>(dir: string, generator: (tree: Tree, options: O) => Promise<void>, options: O): Promise<void> {
  const tree = new FsTree(dir, false);
  const info = vi.spyOn(logger, 'info').mockImplementation(() => undefined);
  try {
    await generator(tree, options);
  } finally {
    info.mockRestore();
  }
  flushChanges(dir, tree.listChanges());
}

/**
 * The README's "From an empty repo to a homelab" sequence in a fresh workspace `dir`:
 * init, every catalog component, the 1Password store as default, an extra environment
 * `lab` with its own cluster and Docker host (docker context `lab`), the demo app whoami,
 * and notes (secrets, a volume, `dependsOn: [postgres]`), then `nx sync`.
 * Each kind of generator runs once through the real `npx nx g`; the other components,
 * the store and the second app run the same generator functions in-process on Nx's
 * file-system Tree, which keeps it near 20 s on a quiet 2-core machine.
 */
export async function populateReadmeHomelab(dir: string): Promise<void> {
  nxIn(dir, 'g', 'homelab:init', '--repo-url=https://git.example.org/me/homelab.git', '--no-interactive');
  nxIn(dir, 'g', 'homelab:infra', 'cert-manager', '--email=admin@example.org', '--no-interactive');
  for (const component of COMPONENT_NAMES.filter((c) => c !== 'cert-manager')) {
    await generate(dir, infraGenerator, { component, email: 'admin@example.org' });
  }
  await generate(dir, secretStoreGenerator, { provider: 'onepassword', default: true });
  nxIn(dir, 'g', 'homelab:environment', 'lab', '--kubernetes-server=https://lab.home.arpa:6443', '--compose-context=lab', '--no-interactive');
  nxIn(dir, 'g', 'homelab:app', 'whoami', '--image=traefik/whoami:v1.10.4', '--port=80', '--host=whoami.home.example.org', '--no-interactive');
  await generate(dir, appGenerator, { name: NOTES.name, image: 'ghcr.io/example/notes:2.1.0', port: 8080, secrets: NOTES.secrets.join(','), volumes: 'data:1Gi:/data' });
  // The app that needs PostgreSQL says so in its spec, as a user would.
  const spec = path.join(dir, `applications/specs/${NOTES.name}.yaml`);
  const text = fs.readFileSync(spec, 'utf8');
  if (!text.includes('\nenvironments:')) throw new Error(`${spec}: no environments: key to put dependsOn before`);
  fs.writeFileSync(spec, text.replace('\nenvironments:', '\ndependsOn:\n  - postgres\nenvironments:'));
  nxIn(dir, 'sync');
}

/**
 * A fresh workspace in `dir` with its own git history, filled by populateReadmeHomelab.
 * Returns `dir`.
 */
export async function buildReadmeHomelab(dir: string): Promise<string> {
  copyWorkspace(dir);
  const git = (...args: string[]) => runOk('git', ['-c', 'user.email=test@homelab.invalid', '-c', 'user.name=homelab tests', ...args], { cwd: dir });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'workspace');
  await populateReadmeHomelab(dir);
  return dir;
}

/** Every folder below `root` of the workspace `dir` holding a kustomization that is an overlay or a platform kustomization (not a Component, not a base). */
export function kustomizationFolders(dir: string, root: string): string[] {
  return Object.keys(diskFiles(dir, root))
    .filter((f) => f.endsWith('/kustomization.yaml') && !f.includes('/generated/') && !f.includes('/components/'))
    .map((f) => path.dirname(f))
    .filter((d) => !d.includes('/base/'));
}
