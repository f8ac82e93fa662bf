import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeSpecFromOptions, storeSpecPath, stringifyStoreSpec } from '../../tools/homelab/src/platform/secret-store';
import { REPO_ROOT } from '../support/workspace';
import { requireTool } from '../support/tools';
import { busyboxOverride, containers, DeployWorkspace, freePorts, uniqueName } from './support';

/**
 * Secrets from the workspace's store on Compose: homelab.yaml `secrets.store` names a 1Password
 * store (the spec `nx g homelab:secret-store onepassword --default` writes), and a Compose deploy
 * of an environment without its own `secrets` source reads the app's keys with the store's CLI,
 * `op read op://homelab/<remoteKey>/<property>`, with no copy of them in homelab.yaml. 1Password's
 * service cannot run here: `op` is a strict test double of its CLI
 * (tests/support/fixtures/store-cli/op); everything else (deploy, Docker, Compose) is real.
 */

const compose = requireTool('docker compose');
const APP = uniqueName('vaulted');
const OP_DOUBLE_DIR = path.join(REPO_ROOT, 'tests/support/fixtures/store-cli');
const TOKEN = 'ops_e2e-service-account-token';
const VALUES = { API_TOKEN: `tok-store-9Xa $HOME "dq" 's' #x`, DB_PASSWORD: 'pw-store-5e7a1c' };

describe.skipIf(compose.skip)('Compose deploys read secrets from the workspace store with its CLI', { timeout: 180_000 }, () => {
  let ws: DeployWorkspace;
  let port: number;
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;
  /** The error lines a run printed: a refusal is exactly one. */
  const errors = (r: { stdout: string; stderr: string }) => output(r).split('\n').filter((l) => l.startsWith('error:'));
  const opEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: `${OP_DOUBLE_DIR}${path.delimiter}${process.env.PATH}`,
    OP_DOUBLE_TOKEN: TOKEN,
    OP_DOUBLE_STORE: path.join(ws.root, '.op-store'),
    ...extra,
  });

  beforeAll(async () => {
    [port] = await freePorts(1);
    ws = DeployWorkspace.create('deploy-store-secrets');
    const spec = storeSpecFromOptions({ provider: 'onepassword' });
    fs.mkdirSync(path.join(ws.root, path.dirname(storeSpecPath(spec.name))), { recursive: true });
    fs.writeFileSync(path.join(ws.root, storeSpecPath(spec.name)), stringifyStoreSpec(spec));
    ws.settings((config) => {
      config.secrets = { store: spec.name };
    });
    // The 1Password items as the double reads them: vault homelab, item <app>, a field per key.
    for (const [key, value] of Object.entries(VALUES)) {
      fs.mkdirSync(path.join(ws.root, '.op-store/homelab', APP), { recursive: true });
      fs.writeFileSync(path.join(ws.root, '.op-store/homelab', APP, key), value);
    }
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port, secrets: Object.keys(VALUES) });
    ws.override(APP, 'dev', busyboxOverride(port));
  });

  afterAll(() => ws?.cleanup());

  it('without OP_SERVICE_ACCOUNT_TOKEN: refused in one line naming it and the fix, nothing started', async () => {
    const result = await ws.deploy(APP, { env: 'dev' }, opEnv({ OP_SERVICE_ACCOUNT_TOKEN: '' }));

    expect(result.status).not.toBe(0);
    expect(errors(result)).toEqual([
      `error: ${APP} (dev): secret store onepassword: \`op\` needs OP_SERVICE_ACCOUNT_TOKEN, which is not set; export it (the store's credential, as in its bootstrap Secret) for the deploy, or give this environment its own \`secrets\` source in homelab.yaml (docs/deploy.md, "Secret sources")`,
    ]);
    expect(containers(`${APP}-dev`)).toEqual([]);
  });

  it('without op on PATH: refused in one line naming the CLI and the fix', async () => {
    const result = await ws.deploy(APP, { env: 'dev' }, { ...opEnv({ OP_SERVICE_ACCOUNT_TOKEN: TOKEN }), PATH: process.env.PATH });

    expect(result.status).not.toBe(0);
    expect(errors(result)).toHaveLength(1);
    expect(errors(result)[0]).toContain(`error: ${APP} (dev): secret store onepassword is read with \`op\`, which is not installed or not on PATH; install it where deploy runs`);
    expect(containers(`${APP}-dev`)).toEqual([]);
  });

  it('with the credential: every key read from the store reaches the container byte for byte; no value and no token is printed', async () => {
    const result = await ws.deploy(APP, { env: 'dev' }, opEnv({ OP_SERVICE_ACCOUNT_TOKEN: TOKEN }));

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain('[secrets]  2 key(s) from secret store onepassword (`op read op://homelab/{remoteKey}/{property}`) -> private env file');
    const [container] = containers(`${APP}-dev`);
    for (const [key, value] of Object.entries(VALUES)) expect(container.env).toContain(`${key}=${value}`);
    for (const secret of [...Object.values(VALUES), TOKEN]) expect(output(result)).not.toContain(secret);
    expect(fs.readFileSync(path.join(ws.root, 'homelab.yaml'), 'utf8')).not.toContain(VALUES.DB_PASSWORD);
  });

  it("an environment's own secrets source still wins: environment variables, the store not asked", async () => {
    ws.settings((config) => {
      config.environments.find((e: { name: string }) => e.name === 'dev').secrets = { source: 'env' };
    });
    const fromEnv = { API_TOKEN: 'tok-from-env-1234', DB_PASSWORD: 'pw-from-env-5678' };
    const result = await ws.deploy(APP, { env: 'dev' }, { ...fromEnv, PATH: process.env.PATH });

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain('[secrets]  2 key(s) from environment variables');
    const [container] = containers(`${APP}-dev`);
    for (const [key, value] of Object.entries(fromEnv)) expect(container.env).toContain(`${key}=${value}`);
  });
});
