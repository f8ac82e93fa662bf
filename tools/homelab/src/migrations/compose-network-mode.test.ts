import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readText, workspaceTree, makeTempDir, removeDir } from '../../../../tests/support/workspace';
import { requireTool, run } from '../../../../tests/support/tools';
import { diskHost } from '../host';
import composeNetworkMode, { resetNetworksBesideNetworkMode } from './compose-network-mode';

const OVERRIDE = 'applications/compose/environments/dev/web/compose.override.yaml';
// An override of the previous format: host networking for a service that now joins homelab-dev.
const PREVIOUS = `# Your overrides of web in dev.
services:
  web:
    # the host's network, for discovery
    network_mode: host
    environment:
      TZ: Europe/Paris
  worker:
    environment: { LOG: debug }
`;
const MIGRATED = `# Your overrides of web in dev.
services:
  web:
    # the host's network, for discovery
    network_mode: host
    networks: !reset {}
    environment:
      TZ: Europe/Paris
  worker:
    environment: { LOG: debug }
`;

describe('the compose-network-mode migration', () => {
  it('adds `networks: !reset {}` beside a network_mode of compose.override.yaml, every other line and comment kept', () => {
    const { tree } = workspaceTree();
    tree.write(OVERRIDE, PREVIOUS);

    const notes = composeNetworkMode(tree);

    expect(readText(tree, OVERRIDE)).toBe(MIGRATED);
    expect(notes).toEqual([expect.stringMatching(/^applications\/compose\/environments\/dev\/web\/compose\.override\.yaml: web keeps network_mode/)]);
  });

  it('changes nothing when run again, nor a service that has networks of its own, nor a file that does not read', () => {
    const { tree, changes } = workspaceTree();
    tree.write(OVERRIDE, MIGRATED);
    tree.write('infrastructure/compose/environments/prod/ingress/compose.override.yaml', 'services:\n  traefik:\n    network_mode: host\n    networks: [homelab]\n');
    tree.write('applications/compose/environments/prod/web/compose.override.yaml', 'services:\n  web: [\n');
    const before = changes();

    expect(composeNetworkMode(tree)).toEqual([]);
    expect(changes()).toEqual(before);
  });

  // The point of the migration, on the real Compose: the previous override no longer merges
  // with a service that joins a network; the migrated one does, and keeps the host's network.
  const compose = requireTool('docker compose');
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeDir));
  it.skipIf(compose.skip)('makes an override Compose refused merge again with a service that joins the environment network', () => {
    const dir = makeTempDir('network-mode');
    dirs.push(dir);
    const envDir = path.join(dir, path.dirname(OVERRIDE));
    fs.mkdirSync(envDir, { recursive: true });
    fs.writeFileSync(path.join(envDir, 'compose.generated.yaml'), 'name: web-dev\nservices:\n  web:\n    image: homelab-test/busybox:1\n    networks: { default: {}, homelab-dev: {} }\n  worker:\n    image: homelab-test/busybox:1\nnetworks:\n  homelab-dev: { name: homelab-dev, external: true }\n');
    fs.writeFileSync(path.join(dir, OVERRIDE), PREVIOUS);
    const config = () => run('docker', ['compose', '-f', 'compose.generated.yaml', '-f', 'compose.override.yaml', 'config', '--format', 'json'], { cwd: envDir });

    const refused = config();
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/network_mode.*networks|networks.*network_mode/);

    expect(resetNetworksBesideNetworkMode(diskHost(dir))).toHaveLength(1);
    const merged = config();
    expect(merged.stderr).toBe('');
    expect(merged.status).toBe(0);
    const web = JSON.parse(merged.stdout).services.web;
    expect(web.network_mode).toBe('host');
    expect(web.networks).toBeUndefined();
  });
});
