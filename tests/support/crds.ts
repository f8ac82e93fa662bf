import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyCrdFiles, crdFiles, type KubectlRunner } from '../../scripts/crds/install';
import { REPO_ROOT } from '../../scripts/lib/temp-workspace';
import type { Cluster } from './cluster';
import { run } from './tools';

/** The namespace of the marker that says which CRD files the run's control plane already serves. */
const MARKER_NAMESPACE = 'default';

/**
 * Installs the CRDs of every catalog component, at the versions the catalog pins, into the
 * test cluster. They come from scripts/crds/fetch.ts (the projects' own Go modules, cached
 * outside the repository by `npm run setup:engines`); the call is a no-op when cached.
 * Applied as the users' CI job applies a workspace's (scripts/crds/install.ts applyCrdFiles),
 * and waits until the server serves every one of them.
 *
 * The run's control plane is shared by every file of tests/kubernetes-api, and about 20 of them
 * ask for the same CRDs (applying about 80 CRDs took each of them 50 s). So the global setup
 * installs them once when it starts the control plane (control-plane.global.ts), and a ConfigMap
 * named after the digest of the files records it: a call on a control plane that has the record
 * only reads it. A change to any CRD file changes the digest, so the new files are applied.
 */
export function installCatalogCrds(cluster: Cluster): string[] {
  return installCrds((args, options) => cluster.kubectl(args, options));
}

/** installCatalogCrds with any kubectl runner (the global setup has no Cluster yet). */
export function installCrds(kubectl: KubectlRunner): string[] {
  const fetched = run('npx', ['tsx', path.join(REPO_ROOT, 'scripts/crds/fetch.ts')], { cwd: REPO_ROOT, timeout: 600_000 });
  if (fetched.status !== 0) throw new Error(`scripts/crds/fetch.ts failed:\n${fetched.stderr}`);
  const root = fetched.stdout.trim().split('\n').pop() ?? '';
  const files = crdFiles(root);
  if (files.length === 0) throw new Error(`no CRD files under ${root}`);
  const digest = createHash('sha256');
  for (const file of files) digest.update(`${path.relative(root, file)}\0`).update(fs.readFileSync(file)).update('\0');
  const marker = `homelab-test-crds-${digest.digest('hex').slice(0, 16)}`;
  const recorded = kubectl(['get', 'configmap', marker, '-n', MARKER_NAMESPACE, '-o', 'jsonpath={.data.names}']);
  if (recorded.status === 0 && recorded.stdout.trim() !== '') return recorded.stdout.trim().split(' ');
  const names = applyCrdFiles(files, kubectl, 'homelab-test');
  // Two files may get here at once: both apply the same CRDs (server-side apply, one field
  // manager: the second changes nothing), and the marker is created by whichever comes first.
  const created = kubectl(['create', 'configmap', marker, '-n', MARKER_NAMESPACE, `--from-literal=names=${names.join(' ')}`]);
  if (created.status !== 0 && !/already ?exists/i.test(created.stderr)) throw new Error(`recording the installed CRDs failed: ${created.stderr.trim()}`);
  return names;
}
