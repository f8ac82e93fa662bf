import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HomelabError } from '../errors';
import { diskHost } from '../host';

export type Layer = 'applications' | 'infrastructure';

export interface BuiltFile {
  /** Workspace-relative path under dist/. */
  path: string;
  content: string;
}

/** The environments a project has an overlay or a Compose environment for. */
export function projectEnvironments(root: string, layer: Layer, name: string): { env: string; kubernetes: boolean; compose: boolean }[] {
  const host = diskHost(root);
  const envs = new Set([...host.list(`${layer}/kubernetes/overlays`), ...host.list(`${layer}/compose/environments`)]);
  return [...envs]
    .sort()
    .map((env) => ({
      env,
      kubernetes: host.isFile(`${layer}/kubernetes/overlays/${env}/${name}/kustomization.yaml`),
      compose: host.isFile(`${layer}/compose/environments/${env}/${name}/compose.generated.yaml`),
    }))
    .filter((e) => e.kubernetes || e.compose);
}

/** The Compose files of a project in one environment, merged in this order. */
export function composeFiles(layer: Layer, name: string, env: string): string[] {
  return [
    `${layer}/compose/base/${name}/compose.yaml`,
    `${layer}/compose/environments/${env}/${name}/compose.generated.yaml`,
    `${layer}/compose/environments/${env}/${name}/compose.override.yaml`,
  ];
}

/**
 * Renders what deploy will apply, per environment: the kustomize build of the overlay
 * and the merged Compose file. Compose is merged without any secret value: the env
 * file it reads is pointed at a path that does not exist, and `.env` files are not
 * read for interpolation.
 */
export function buildProject(root: string, layer: Layer, name: string): BuiltFile[] {
  const out: BuiltFile[] = [];
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-build-'));
  try {
    const emptyEnv = path.join(scratch, 'empty.env');
    fs.writeFileSync(emptyEnv, '');
    for (const { env, kubernetes, compose } of projectEnvironments(root, layer, name)) {
      if (kubernetes) {
        const overlay = `${layer}/kubernetes/overlays/${env}/${name}`;
        out.push({ path: `dist/${env}/kubernetes/${name}.yaml`, content: run('kubectl', ['kustomize', overlay], root, `kustomize build of ${overlay}`) });
      }
      if (compose) {
        const files = composeFiles(layer, name, env).filter((f) => fs.existsSync(path.join(root, f)));
        const args = ['compose', '--env-file', emptyEnv, ...files.flatMap((f) => ['-f', f]), 'config'];
        const content = run('docker', args, root, `docker compose config of ${name} in ${env}`, {
          HOMELAB_ENV_FILE: path.join(scratch, 'no-secrets-at-build-time.env'),
        });
        out.push({ path: `dist/${env}/compose/${name}/compose.yaml`, content });
      }
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return out;
}

function run(command: string, args: string[], cwd: string, what: string, env: Record<string, string> = {}): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new HomelabError(
      missing ? `${what}: \`${command}\` is not installed; run \`npm run setup:engines\` (or install it) and retry` : `${what}: ${result.error.message}`,
    );
  }
  if (result.status !== 0) {
    throw new HomelabError(`${what} failed: ${(result.stderr || result.stdout).trim().split('\n').slice(-5).join(' | ')}`);
  }
  return result.stdout;
}
