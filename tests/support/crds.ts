import * as path from 'node:path';
import { applyCrdFiles, crdFiles } from '../../scripts/crds/install';
import type { Cluster } from './cluster';
import { REPO_ROOT } from './workspace';
import { run } from './tools';

/**
 * Installs the CRDs of every catalog component, at the versions the catalog pins, into the
 * test cluster. They come from scripts/crds/fetch.ts (the projects' own Go modules, cached
 * outside the repository by `npm run setup:engines`); the call is a no-op when cached.
 * Applied as the users' CI job applies a workspace's (scripts/crds/install.ts applyCrdFiles),
 * and waits until the server serves every one of them.
 */
export function installCatalogCrds(cluster: Cluster): string[] {
  const fetched = run('npx', ['tsx', path.join(REPO_ROOT, 'scripts/crds/fetch.ts')], { cwd: REPO_ROOT, timeout: 600_000 });
  if (fetched.status !== 0) throw new Error(`scripts/crds/fetch.ts failed:\n${fetched.stderr}`);
  const root = fetched.stdout.trim().split('\n').pop() ?? '';
  const files = crdFiles(root);
  if (files.length === 0) throw new Error(`no CRD files under ${root}`);
  return applyCrdFiles(files, (args, options) => cluster.kubectl(args, options), 'homelab-test');
}
