/**
 * Installs into the cluster KUBECONFIG points at the CRDs this workspace's components need, at the
 * versions the catalog pins, and waits until the server serves each of them:
 *
 *   npx tsx scripts/crds/install.ts [--workspace DIR]      # DIR: the homelab workspace, default .
 *
 * Which CRDs: ArgoCD's once the platform is initialised, and each component's in
 * infrastructure/specs (the backup component only its provider's): `workspaceCrdSources` in
 * tools/homelab/src/component/crds.ts. They come from the projects' Go modules through
 * scripts/crds/fetch.ts (cached; Go and the Go module proxy are needed for what is not cached yet).
 * kubectl is `kubectl` on PATH or the binary HOMELAB_KUBECTL names. The users' CI job runs this on
 * the kind cluster it creates, before `homelab validate --server-dry-run`; the API-server tests
 * install the catalog's CRDs with the same applyCrdFiles.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { HomelabError } from '../../tools/homelab/src/errors';
import { diskHost } from '../../tools/homelab/src/host';
import { workspaceCrdSources } from '../../tools/homelab/src/component/crds';
import { FetchError, fetchSources } from './fetch';

/** Runs kubectl with these arguments (and stdin): how the CRDs reach a cluster. */
export type KubectlRunner = (args: string[], options?: { timeout?: number }) => { status: number | null; stdout: string; stderr: string };

/** Every CRD file (*.yaml) under a folder, sorted. */
export function crdFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => path.join(dir, f))
    .sort();
}

/**
 * Server-side applies CRD files (some CRDs are larger than the last-applied annotation allows)
 * and waits until the server serves every one of them. Returns the CRDs' names (`customresourcedefinition.apiextensions.k8s.io/…`).
 */
export function applyCrdFiles(files: string[], kubectl: KubectlRunner, fieldManager = 'homelab'): string[] {
  const apply = (batch: string[]) =>
    kubectl(['apply', '--server-side', '--force-conflicts', `--field-manager=${fieldManager}`, ...batch.flatMap((f) => ['-f', f]), '-o', 'name'], {
      timeout: 120_000 + 10_000 * batch.length,
    });
  // One kubectl for every file: a kubectl process per file spent about 0.5 s each starting and
  // discovering the API (the catalog has about 80 files). When the batch fails, each file is applied
  // alone, so the message names the file the server refused (and a batch that failed for a passing
  // reason still installs them).
  const names: string[] = [];
  const all = files.length === 0 ? undefined : apply(files);
  if (all && all.status === 0) names.push(...all.stdout.split('\n').filter(Boolean));
  else if (all) {
    for (const file of files) {
      const result = apply([file]);
      if (result.status !== 0) throw new FetchError(`installing ${file} failed: ${result.stderr.trim().split('\n').pop()}`);
      names.push(...result.stdout.split('\n').filter(Boolean));
    }
  }
  if (names.length === 0) return names;
  for (let attempt = 1; ; attempt++) {
    const waited = kubectl(['wait', '--for=condition=Established', '--timeout=120s', ...names], { timeout: 150_000 });
    if (waited.status === 0) return names;
    // A CRD created a moment ago may have no status conditions yet ("accessor error: <nil>"): ask again.
    if (!/accessor error/.test(waited.stderr) || attempt === 10) throw new FetchError(`the CRDs did not become established: ${waited.stderr.trim().split('\n').pop()}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  }
}

function main(args: string[]): void {
  const at = args.indexOf('--workspace');
  const root = path.resolve(at === -1 ? '.' : (args[at + 1] ?? ''));
  if (!fs.existsSync(path.join(root, 'homelab.yaml'))) throw new FetchError(`${root} holds no homelab.yaml; run it in the workspace or pass --workspace DIR`);
  const sources = workspaceCrdSources(diskHost(root));
  const kubectlBin = process.env.HOMELAB_KUBECTL || 'kubectl';
  const kubectl: KubectlRunner = (kargs, options = {}) => {
    const r = spawnSync(kubectlBin, kargs, { encoding: 'utf8', timeout: options.timeout ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw new FetchError(`${kubectlBin}: ${r.error.message}; install kubectl or set HOMELAB_KUBECTL`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  for (const source of fetchSources(sources, { log: (line) => process.stderr.write(`${line}\n`) })) {
    const names = applyCrdFiles(crdFiles(source.dir), kubectl);
    process.stdout.write(`${source.project} ${source.version} (${source.pin}): ${names.length} CRD(s) established\n`);
  }
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    // A spec that does not read is the user's to fix: one line, as homelab says it.
    if (!(error instanceof FetchError || error instanceof HomelabError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  }
}
