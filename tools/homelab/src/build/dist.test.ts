import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../app/generate';
import { diskHost } from '../host';
import { requireTool } from '../../../../tests/support/tools';
import { stackSpec, WIKI_SPEC_FILE, writePatchedStack, writeSpec } from '../../../../tests/support/spec';
import { makeDiskWorkspace, removeDir } from '../../../../tests/support/workspace';
import { syncAll } from '../workspace/sync';
import { buildProject, composeMetadata } from './dist';

/**
 * build renders what deploy applies, per environment, with the real kubectl kustomize and
 * docker compose: the same bytes every time, on any machine, without secret values.
 */

const kubectl = requireTool('kubectl');
const compose = requireTool('docker compose');

describe.skipIf(kubectl.skip || compose.skip)('build', () => {
  let root: string;

  beforeAll(() => {
    root = makeDiskWorkspace('build');
    generateApp(diskHost(root), { name: 'web', image: 'homelab-test/busybox:1', port: 8080, secrets: 'API_TOKEN', volumes: 'data:1Gi:/data' });
    const override = path.join(root, 'applications/compose/environments/dev/web/compose.override.yaml');
    fs.writeFileSync(override, 'services:\n  web:\n    environment:\n      FROM_SHELL: ${HOMELAB_BUILD_TEST_VAR:-unset}\n    volumes:\n      - ./config:/config:ro\n');
    fs.writeFileSync(path.join(root, 'applications/compose/base/web/.env'), 'API_TOKEN=local-dotenv-secret\n');
  });

  afterAll(() => removeDir(root));

  it('renders both platforms for every environment of the project', () => {
    expect(buildProject(root, 'applications', 'web').map((f) => f.path)).toEqual([
      'dist/dev/kubernetes/web.yaml',
      'dist/dev/compose/web/compose.yaml',
      'dist/prod/kubernetes/web.yaml',
      'dist/prod/compose/web/compose.yaml',
    ]);
  });

  it('is byte-for-byte the same from another copy of the workspace, another temp folder and another shell', () => {
    const first = buildProject(root, 'applications', 'web');
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-build-copy-'));
    fs.cpSync(root, copy, { recursive: true });
    process.env.HOMELAB_BUILD_TEST_VAR = 'from-the-shell';
    try {
      expect(buildProject(copy, 'applications', 'web')).toEqual(first);
    } finally {
      delete process.env.HOMELAB_BUILD_TEST_VAR;
      removeDir(copy);
    }
  });

  it('holds no absolute path of this machine and no secret value', () => {
    for (const file of buildProject(root, 'applications', 'web')) {
      expect(file.content, file.path).not.toContain(root);
      expect(file.content, file.path).not.toContain(path.join(os.tmpdir(), 'homelab-'));
      expect(file.content, file.path).not.toContain(`${os.homedir()}/`);
      expect(file.content, file.path).not.toContain('local-dotenv-secret');
    }
    const dev = buildProject(root, 'applications', 'web').find((f) => f.path === 'dist/dev/compose/web/compose.yaml')!;
    expect(YAML.parse(dev.content).services.web.volumes).toContainEqual(expect.objectContaining({ source: './config', target: '/config' }));
    expect(YAML.parse(dev.content).services.web.environment).toEqual({ FROM_SHELL: 'unset' });
  });

  it('records the secret keys and the services that read them, for deploy', () => {
    const dev = buildProject(root, 'applications', 'web').find((f) => f.path === 'dist/dev/compose/web/compose.yaml')!;
    expect(composeMetadata(dev.content)).toEqual({
      project: 'web-dev',
      environment: 'dev',
      // The backups' password comes from the store entry of homelab.yaml backup.repositoryKey, read by the mover.
      secrets: {
        keys: [
          { key: 'API_TOKEN', remoteKey: 'web', property: 'API_TOKEN' },
          { key: 'RESTIC_PASSWORD', remoteKey: 'homelab/restic', property: 'password' },
        ],
        services: ['backup-data', 'web'],
      },
    });
  });

  it('keeps the cron services (profile cron), which deploy creates and the scheduler starts, and leaves out the other profiles as Compose does', () => {
    const override = path.join(root, 'applications/compose/environments/prod/web/compose.override.yaml');
    fs.writeFileSync(
      override,
      YAML.stringify({
        services: {
          nightly: { image: 'homelab-test/busybox:1', profiles: ['cron'], restart: 'no', labels: { 'homelab.kind': 'cron', 'homelab.schedule': '0 3 * * *' } },
          debug: { image: 'homelab-test/busybox:1', profiles: ['debug'] },
        },
      }),
    );
    try {
      const prod = buildProject(root, 'applications', 'web').find((f) => f.path === 'dist/prod/compose/web/compose.yaml')!;
      const services = YAML.parse(prod.content).services;
      // The backup mover (profile backup) is kept as well: deploy creates it, the scheduler starts it.
      expect(Object.keys(services).sort()).toEqual(['backup-data', 'nightly', 'scheduler', 'web']);
      expect(services['backup-data']).toMatchObject({ profiles: ['backup'], labels: { 'homelab.kind': 'backup' } });
      expect(services.nightly).toMatchObject({ profiles: ['cron'], labels: { 'homelab.kind': 'cron', 'homelab.schedule': '0 3 * * *' } });
    } finally {
      fs.rmSync(override);
    }
  });
});

describe.skipIf(kubectl.skip || compose.skip)('build of an app of several services', () => {
  let root: string;

  beforeAll(() => {
    root = makeDiskWorkspace('build-stack');
    const host = diskHost(root);
    writeSpec(host, stackSpec(WIKI_SPEC_FILE));
    syncAll(host);
  });

  afterAll(() => removeDir(root));

  it("records where the store keeps a key a service declares in place, and every service that reads the app's secrets", () => {
    const prod = buildProject(root, 'applications', 'wiki').find((f) => f.path === 'dist/prod/compose/wiki/compose.yaml')!;

    expect(composeMetadata(prod.content)?.secrets).toEqual({
      keys: [
        { key: 'DB_PASSWORD', remoteKey: 'wiki', property: 'db-password' },
        { key: 'SESSION_KEY', remoteKey: 'wiki', property: 'session-key' },
        { key: 'POSTGRES_PASSWORD', remoteKey: 'wiki', property: 'db-password' },
        { key: 'RESTIC_PASSWORD', remoteKey: 'homelab/restic', property: 'password' },
      ],
      services: ['backup-db', 'backup-uploads', 'db', 'indexer', 'migrate', 'web'],
    });
  });
});

describe.skipIf(kubectl.skip || compose.skip)('build of an app with patches', () => {
  let root: string;

  beforeAll(() => {
    root = makeDiskWorkspace('build-patched');
    const host = diskHost(root);
    writePatchedStack(host);
    syncAll(host);
  });

  afterAll(() => removeDir(root));

  it("applies the Kubernetes patches, merges the Compose fragment and each environment's schedule, and embeds the config file", () => {
    const built = new Map(buildProject(root, 'applications', 'relay').map((f) => [f.path, f.content]));
    const objects = YAML.parseAllDocuments(built.get('dist/prod/kubernetes/relay.yaml')!).map((d) => d.toJS());
    const broker = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'broker');
    const merged = YAML.parse(built.get('dist/prod/compose/relay/compose.yaml')!);

    expect(broker.metadata.annotations['example.org/owner']).toBe('relay-team');
    expect(broker.spec.template.spec.containers[0]).toMatchObject({ name: 'broker', image: 'example/broker:2.0.18', terminationMessagePolicy: 'FallbackToLogsOnError' });
    expect(objects.find((o) => o.kind === 'CronJob').spec.schedule).toBe('30 2 * * 0');
    expect(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'relay-config').data.config).toBe('listener 1883\nallow_anonymous false\n');
    expect(merged.services.broker).toMatchObject({ image: 'example/broker:2.0.18', stop_signal: 'SIGINT', ulimits: { nofile: { soft: 65536, hard: 65536 } } });
    expect(merged.services.purge.labels['homelab.schedule']).toBe('30 2 * * 0');
    expect(merged.configs.config.content).toBe('listener 1883\nallow_anonymous false\n');
  });
});
