import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTool, run } from '../support/tools';
import { busyboxOverride, containers, DeployWorkspace, freePorts, httpGet, uniqueName, VOLUME_OWNER_TEST_IMAGE } from './support';

/**
 * Named volumes the container user can write, on the real Docker Engine: a generated stateful
 * app runs as 65532 (homelab's default) and writes its first file into its fresh named volume
 * before it serves. Docker creates named volumes owned by root, so without deploy's volume step
 * that first write fails and the deploy rolls back. An existing volume holding data is never
 * given to another owner. The helper image is the local busybox (VOLUME_OWNER_TEST_IMAGE, set
 * in homelab.yaml by DeployWorkspace): no image can be pulled here.
 */

const compose = requireTool('docker compose');
const APP = uniqueName('owned');
const KEPT = uniqueName('kept');

/** Writes a file into the volume as the container's user, then serves: a failed write exits the container. */
function writingOverride(port: number): Record<string, unknown> {
  return busyboxOverride(port, { command: ['sh', '-c', `id -u > /data/written-by && exec httpd -f -p 127.0.0.1:${port} -h /www`] });
}

/** uid:gid and mode of a path in a volume, and the files it holds, read by a throwaway root container. */
function inVolume(volume: string, script: string): string {
  return run('docker', ['run', '--rm', '--network', 'none', '-v', `${volume}:/v`, VOLUME_OWNER_TEST_IMAGE, 'sh', '-c', script]).stdout.trim();
}

describe.skipIf(compose.skip)('named volumes the container user can write, on the real engine', { timeout: 180_000 }, () => {
  let ws: DeployWorkspace;
  let ports: number[];
  const output = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`;

  beforeAll(async () => {
    ports = await freePorts(2);
    ws = DeployWorkspace.create('deploy-volume-owner');
    ws.addApp({ name: APP, image: 'homelab-test/busybox:1', port: ports[0], volumes: 'data:16Mi:/data' });
    ws.override(APP, 'dev', writingOverride(ports[0]));
    ws.addApp({ name: KEPT, image: 'homelab-test/busybox:1', port: ports[1], volumes: 'data:16Mi:/data' });
    ws.override(KEPT, 'dev', busyboxOverride(ports[1]));
  });

  afterAll(() => ws?.cleanup());

  it('a stateful app running as 65532 writes to its fresh named volume: deploy gives the new volume to that user first', async () => {
    const result = await ws.deploy(APP, { env: 'dev' });

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).toContain(`[volumes]  ${APP}-dev_data: new, owner set to 65532:65532 for ${APP} (was 0:0)`);
    expect(await httpGet(ports[0])).toBe('ok v1\n');
    expect(inVolume(`${APP}-dev_data`, 'stat -c %u:%g /v; cat /v/written-by')).toBe('65532:65532\n65532');
    // Created as Compose creates it: Compose's labels (so `down --volumes` finds it) and the spec's backup label.
    const labels = JSON.parse(run('docker', ['volume', 'inspect', '--format', '{{json .Labels}}', `${APP}-dev_data`]).stdout);
    expect(labels).toMatchObject({ 'com.docker.compose.project': `${APP}-dev`, 'com.docker.compose.volume': 'data', 'homelab.backup': 'true' });
    expect(output(result)).not.toMatch(/already exists but was not created by Docker Compose/);
  });

  it('a second deploy changes nothing: no volume step, the same container, the data as it was', async () => {
    const before = containers(`${APP}-dev`).map((c) => c.id);
    const result = await ws.deploy(APP, { env: 'dev' });

    expect(result.status, output(result)).toBe(0);
    expect(result.stdout).not.toContain('[volumes]');
    expect(result.stdout).toContain('nothing to change');
    expect(containers(`${APP}-dev`).map((c) => c.id)).toEqual(before);
    expect(inVolume(`${APP}-dev_data`, 'stat -c %u:%g /v; ls -A /v')).toBe('65532:65532\nwritten-by');
  });

  it('an existing volume holding data owned by someone else is left as it is, with a warning naming the fix', async () => {
    run('docker', ['volume', 'create', '--label', `com.docker.compose.project=${KEPT}-dev`, '--label', 'com.docker.compose.volume=data', `${KEPT}-dev_data`]);
    inVolume(`${KEPT}-dev_data`, 'echo root data > /v/old && chmod 644 /v/old');
    ws.track(`${KEPT}-dev`);

    const result = await ws.deploy(KEPT, { env: 'dev' });

    expect(result.status, output(result)).toBe(0);
    expect(output(result)).toContain(`volume ${KEPT}-dev_data holds data owned by 0:0, and ${KEPT} runs as 65532:65532: left as it is (deploy never changes the owner of existing data)`);
    expect(inVolume(`${KEPT}-dev_data`, 'stat -c %u:%g /v /v/old; cat /v/old')).toBe('0:0\n0:0\nroot data');
  });
});
