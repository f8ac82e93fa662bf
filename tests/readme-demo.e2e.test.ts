import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containers, DeployWorkspace, freePorts, httpGet, NX_ENV } from './deploy/support';
import { requireTool, run } from './support/tools';

/**
 * The README's demo app, deployed on Compose with the real Docker Engine: generated in a
 * temporary workspace exactly as the README says, then `npx nx run whoami:deploy --env dev`.
 *
 * traefik/whoami is built FROM scratch (no shell, no wget), so an in-container health check
 * can never pass; a new app is probed from outside the container instead (health.probe:
 * outside). The image here is the stand-in that `npm run setup:engines` builds under the
 * README's name from scripts/test-images/whoami (test machines have no registry).
 *
 * What differs from the README run, in the environment's compose.override.yaml only (where a
 * user puts such settings): the test engine has no bridge network, so the container uses host
 * networking, and a process that is not root cannot bind port 80 on the host's network, so
 * the app listens on a free port (WHOAMI_PORT_NUMBER, and the probe's port label with it).
 */
const compose = requireTool('docker compose');
const IMAGE = 'traefik/whoami:v1.10.4';
const image = requireTool(`the image ${IMAGE}`, ['docker', 'image', 'inspect', IMAGE]);

/** A workspace of its own: dev and prod as the default homelab.yaml has them, and dev's suffix unique on this shared engine. */
const SUFFIX = `-dev${Math.random().toString(36).slice(2, 6)}`;
const HOMELAB_YAML = `environments:
  - name: dev
    namespaceSuffix: "${SUFFIX}"
  - name: prod
    protected: true
gitops:
  repoURL: https://git.example.org/me/homelab.git
secrets:
  store: homelab
`;
const PROJECT = `whoami${SUFFIX}`;

describe.skipIf(compose.skip || image.skip)('the README demo app on Compose', () => {
  let ws: DeployWorkspace;
  let port = 0;

  beforeAll(async () => {
    [port] = await freePorts(1);
    ws = DeployWorkspace.create('readme-demo');
    fs.writeFileSync(path.join(ws.root, 'homelab.yaml'), HOMELAB_YAML);
    ws.track(PROJECT);
    // The README's command, word for word (ws.nx adds --output-style, which `nx g` does not take).
    const generated = run('npx', ['nx', 'g', 'homelab:app', 'whoami', '--image', IMAGE, '--port', '80', '--no-interactive'], { cwd: ws.root, env: { ...NX_ENV, TMPDIR: ws.tmp }, timeout: 300_000 });
    expect(generated.status, generated.stdout + generated.stderr).toBe(0);
  }, 300_000);
  afterAll(() => ws?.cleanup());

  it('runs an image without a shell or wget, as the real traefik/whoami', () => {
    for (const tool of ['/bin/sh', 'wget']) {
      const result = run('docker', ['run', '--rm', '--network', 'none', '--entrypoint', tool, IMAGE, '--help']);
      expect(result.status, `${tool} ran in the image`).not.toBe(0);
    }
  });

  it('is generated with the health check probed from outside the container, and validates clean', () => {
    const spec = fs.readFileSync(path.join(ws.root, 'applications/specs/whoami.yaml'), 'utf8');
    expect(spec).toMatch(/health:\n {2}http:\n {4}path: \/\n {2}probe: outside\n/);

    const result = ws.nx(['run', 'whoami:validate', '--skip-nx-cache']);

    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('whoami: valid');
  });

  it('deploys running and healthy with `nx run whoami:deploy --env dev`, and serves', async () => {
    ws.override('whoami', 'dev', { network_mode: 'host', environment: { WHOAMI_PORT_NUMBER: String(port) }, labels: { 'homelab.health.port': String(port) } });

    const result = ws.nx(['run', 'whoami:deploy', '--env', 'dev']);

    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`[health]   ${PROJECT}-whoami-1: GET http://127.0.0.1:${port}/ -> 200, probed from outside the container`);
    expect(result.stdout).toContain(`[verify]   ${PROJECT}-whoami-1: running, healthy (GET http://127.0.0.1:${port}/ -> 200, probed from outside the container)`);
    const running = containers(PROJECT);
    expect(running.map((c) => [c.name, c.image, c.running])).toEqual([[`${PROJECT}-whoami-1`, IMAGE, true]]);
    expect(await httpGet(port, '/')).toMatch(/^Hostname: .+\nRemoteAddr: 127\.0\.0\.1:\d+\nGET \/ HTTP\/1\.1\n/);
  });
});
