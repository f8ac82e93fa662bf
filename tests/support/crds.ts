import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Cluster } from './cluster';
import { REPO_ROOT } from './workspace';
import { run } from './tools';

/**
 * Installs the CRDs of every catalog component, at the versions the catalog pins, into the
 * test cluster. They come from scripts/crds/fetch.ts (the projects' own Go modules, cached
 * outside the repository by `npm run setup:engines`); the call is a no-op when cached.
 * Waits until the server serves every one of them.
 */
export function installCatalogCrds(cluster: Cluster): string[] {
  const fetched = run('npx', ['tsx', path.join(REPO_ROOT, 'scripts/crds/fetch.ts')], { cwd: REPO_ROOT, timeout: 600_000 });
  if (fetched.status !== 0) throw new Error(`scripts/crds/fetch.ts failed:\n${fetched.stderr}`);
  const root = fetched.stdout.trim().split('\n').pop() ?? '';
  const files = fs
    .readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(root, f))
    .sort();
  if (files.length === 0) throw new Error(`no CRD files under ${root}`);
  const names: string[] = [];
  for (const file of files) {
    // Server-side: some CRDs are larger than the last-applied annotation allows.
    const result = cluster.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=homelab-test', '-f', file, '-o', 'name'], {
      timeout: 120_000,
    });
    if (result.status !== 0) throw new Error(`installing ${path.relative(root, file)}: ${result.stderr}`);
    names.push(...result.stdout.split('\n').filter(Boolean));
  }
  cluster.kubectlOk(['wait', '--for=condition=Established', '--timeout=120s', ...names], { timeout: 150_000 });
  return names;
}
