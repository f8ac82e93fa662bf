import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, requireTool } from '../support/tools';
import { containers, DeployWorkspace, uniqueName, waitHealthy } from './support';

/**
 * An app that depends on another app (`dependsOn: [api]`), deployed on the real Docker Engine:
 * refused in one line while the app it depends on is not deployed, and through Nx deployed after
 * it, on its project network, where the dependency answers to its Kubernetes names.
 *
 * Both apps run on their projects' bridge networks (not the host's, as the other deploy tests
 * do): the engine creates and joins them here. What cannot be exercised here: a request from one
 * container to the other (it would go to a bridge address, and this machine's tests only talk
 * to 127.0.0.1), so the aliases and memberships are read back from the engine instead.
 */

const compose = requireTool('docker compose');
const API = uniqueName('api');
const WEB = uniqueName('web');

/** A busybox app serving on 127.0.0.1:8080 inside its own container, checked from inside (no request from the host). */
const spec = (name: string, extra = '') =>
  `name: ${name}\nimage: { repository: homelab-test/busybox, tag: "1" }\nports: [{ name: http, port: 8080, http: true }]\nhealth: { probe: exec, http: { path: /healthz } }\nenvironments: { dev: {} }\n${extra}`;

/** The networks a container joined, each with its aliases. */
function networksOf(id: string): Record<string, string[]> {
  const raw = JSON.parse(run('docker', ['inspect', '--format', '{{json .NetworkSettings.Networks}}', id]).stdout) as Record<string, { Aliases: string[] | null }>;
  return Object.fromEntries(Object.entries(raw).map(([name, n]) => [name, [...(n.Aliases ?? [])].sort()]));
}

describe.skipIf(compose.skip)('deploying an app that depends on another app, on Compose', () => {
  let ws: DeployWorkspace;

  beforeAll(() => {
    ws = DeployWorkspace.create('deploy-apps');
    ws.addSpec(API, spec(API));
    ws.addSpec(WEB, spec(WEB, `dependsOn: [${API}]\n`));
    for (const project of [`${API}-dev`, `${WEB}-dev`]) ws.track(project);
  });

  afterAll(() => {
    ws?.cleanup();
    // The projects' networks: cleanup() removes containers and volumes only.
    for (const project of [`${WEB}-dev`, `${API}-dev`]) run('docker', ['network', 'rm', `${project}_default`]);
  });

  it('refuses the dependent in one line while the app it depends on is not deployed, and changes nothing', async () => {
    const result = await ws.deploy(WEB, { env: 'dev' });

    expect(result.status, result.stdout + result.stderr).toBe(2);
    const errors = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.startsWith('error:'));
    expect(errors).toEqual([
      `error: ${WEB} (dev): it depends on app ${API}, which is not deployed in dev on this Docker engine (no network ${API}-dev_default); deploy ${API} first with \`npx nx run ${API}:deploy --env dev\` (\`nx run ${WEB}:deploy\` does, unless --exclude-task-dependencies); nothing was changed`,
    ]);
    expect(containers(`${WEB}-dev`)).toEqual([]);
  });

  it('nx run <app>:deploy deploys the app it depends on first, and joins its network, where it answers to its Kubernetes names', async () => {
    const result = ws.nx(['run', `${WEB}:deploy`, '--env', 'dev']);

    expect(result.status, result.stdout + result.stderr).toBe(0);
    const apiAt = result.stdout.indexOf(`deployed ${API} to dev`);
    expect(apiAt).toBeGreaterThan(-1);
    expect(result.stdout.indexOf(`deployed ${WEB} to dev`)).toBeGreaterThan(apiAt);

    const [api] = await waitHealthy(`${API}-dev`, 1);
    const [web] = await waitHealthy(`${WEB}-dev`, 1);
    expect(api.health).toBe('healthy');
    expect(web.health).toBe('healthy');
    const apiNetworks = networksOf(api.id);
    expect(Object.keys(apiNetworks)).toEqual([`${API}-dev_default`]);
    expect(apiNetworks[`${API}-dev_default`]).toEqual(expect.arrayContaining([`${API}.${API}-dev.svc`, `${API}.${API}-dev.svc.cluster.local`]));
    expect(Object.keys(networksOf(web.id)).sort()).toEqual([`${API}-dev_default`, `${WEB}-dev_default`].sort());
  });
});
