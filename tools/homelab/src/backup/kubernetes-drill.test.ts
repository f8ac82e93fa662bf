import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { inputErrorOf, specOf } from '../../../../tests/support/spec';
import { WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { normalizeApp } from '../app/normalize';
import type { Dependencies } from '../app/normalized';
import { parseWorkspaceConfig } from '../spec/io';
import type { AppSpec, WorkspaceConfig } from '../spec/types';
import { VOLUME_DIGEST_SH } from '../app/steps/compose-backup';
import { checkScript, renderKubernetesDrill } from './kubernetes-drill';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const NONE: Dependencies = new Map();
/** A stateful app: `data` on storage without snapshots (the default Direct), `media` with CSI snapshots. */
const VOLUMES: AppSpec['volumes'] = [
  { name: 'data', size: '1Gi', mountPath: '/data' },
  { name: 'media', size: '5Gi', mountPath: '/media', storageClass: 'ceph-block', backup: { copyMethod: 'Snapshot' } },
];
const files = (ws: WorkspaceConfig = workspace) => normalizeApp(specOf('files', { volumes: VOLUMES }), ws, NONE);
const docs = (content: string) => YAML.parseAllDocuments(content).map((d) => d.toJS());
const of = (objects: any[], kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

describe('renderKubernetesDrill', () => {
  it('restores every backed-up volume into the scratch namespace <namespace>-drill, from the live namespace\'s repositories', () => {
    const drill = renderKubernetesDrill(files(), 'dev', workspace);
    const objects = docs(drill.files[0].content);

    expect(drill.namespace).toBe('files-dev-drill');
    expect(drill.files.map((f) => f.path)).toEqual(['drill.yaml', 'drill-check.yaml']);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/files-dev-drill',
      'ExternalSecret/files-data-restic',
      'ReplicationDestination/files-data',
      'PersistentVolumeClaim/files-data',
      'ExternalSecret/files-media-restic',
      'ReplicationDestination/files-media',
      'PersistentVolumeClaim/files-media',
    ]);
    expect(objects.slice(1).every((o) => o.metadata.namespace === 'files-dev-drill')).toBe(true);
    expect(of(objects, 'ExternalSecret', 'files-data-restic').spec.target.template.data.RESTIC_REPOSITORY).toBe('{{ .repository }}/files-dev/data');
  });

  it('fills a Snapshot volume\'s PVC with the volume populator, and restores a Direct volume straight into its PVC', () => {
    const objects = docs(renderKubernetesDrill(files(), 'dev', workspace).files[0].content);

    expect(of(objects, 'ReplicationDestination', 'files-media').spec).toEqual({
      trigger: { manual: 'drill' },
      restic: {
        repository: 'files-media-restic',
        copyMethod: 'Snapshot',
        capacity: '5Gi',
        accessModes: ['ReadWriteOnce'],
        storageClassName: 'ceph-block',
        moverSecurityContext: { runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 },
      },
    });
    expect(of(objects, 'PersistentVolumeClaim', 'files-media').spec.dataSourceRef).toEqual({ apiGroup: 'volsync.backube', kind: 'ReplicationDestination', name: 'files-media' });
    expect(of(objects, 'ReplicationDestination', 'files-data').spec.restic).toMatchObject({ copyMethod: 'Direct', destinationPVC: 'files-data' });
    expect(of(objects, 'ReplicationDestination', 'files-data').spec.restic).not.toHaveProperty('capacity');
    expect(of(objects, 'PersistentVolumeClaim', 'files-data').spec).not.toHaveProperty('dataSourceRef');
  });

  it('reads the S3 target\'s repositories of the live namespace', () => {
    const ws = { ...workspace, backup: { target: { s3: { endpoint: 'https://s3.example.org', bucket: 'backups' } } } };
    const objects = docs(renderKubernetesDrill(files(ws), 'prod', ws).files[0].content);

    expect(of(objects, 'ExternalSecret', 'files-data-restic').spec.target.template.data.RESTIC_REPOSITORY).toBe('s3:https://s3.example.org/backups/files/data');
    expect(objects[0].metadata.name).toBe('files-drill');
  });

  it('prints the steps with the environment\'s kube context, waiting on the trigger VolSync reports back', () => {
    const ws = { ...workspace, environments: workspace.environments.map((e) => (e.name === 'dev' ? { ...e, kubernetes: { context: 'home' } } : e)) };
    const { steps } = renderKubernetesDrill(files(ws), 'dev', ws);

    expect(steps).toContain('kubectl --context home apply -f drill.yaml');
    expect(steps).toContain("kubectl --context home -n files-dev-drill wait replicationdestination/files-data --for=jsonpath='{.status.lastManualSync}'=drill");
    expect(steps).toContain('kubectl --context home delete namespace files-dev-drill');
  });

  it('mounts every restored claim read-only in the check pod', () => {
    const [pod] = docs(renderKubernetesDrill(files(), 'dev', workspace).files[1].content);

    expect(pod.spec.volumes).toEqual([
      { name: 'data', persistentVolumeClaim: { claimName: 'files-data', readOnly: true } },
      { name: 'media', persistentVolumeClaim: { claimName: 'files-media', readOnly: true } },
    ]);
    expect(pod.spec.containers[0].args[0]).toMatch(/\necho "homelab-backup digest data \$\(volume_digest '\/drill\/data'\)"\necho "homelab-backup digest media \$\(volume_digest '\/drill\/media'\)"$/);
  });

  it.each([
    { case: 'an environment the app does not run in', app: () => files(), env: 'staging', message: /"files" does not run in environment "staging"; use one of "dev", "prod"$/ },
    { case: 'an app without a backed-up volume', app: () => normalizeApp(specOf('web'), workspace, NONE), env: 'dev', message: /"web" has no backed-up volume; a restore drill on Kubernetes needs/ },
  ])('refuses $case in one line', ({ app, env, message }) => {
    const error = inputErrorOf(() => renderKubernetesDrill(app(), env, workspace));

    expect(error).toMatch(message);
    expect(error).not.toMatch(/\n/);
  });
});

describe('checkScript', () => {
  let dir = '';
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('run by sh, prints the digest line of the Compose mover for the same files (paths relative to the volume, lost+found left out)', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drill-digest-'));
    const write = (file: string, content: string) => {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), content);
    };
    write('b.txt', 'second\n');
    write('a/one.txt', 'first\n');
    write('lost+found/junk', 'not data');
    // What the Compose mover prints after a backup of this folder (mover.sh: `volume_digest "$DATA_DIR"`).
    const mover = spawnSync('sh', ['-c', `${VOLUME_DIGEST_SH}echo "homelab-backup digest data $(volume_digest "$1")"`, 'sh', dir], { encoding: 'utf8' });

    const result = spawnSync('sh', ['-c', checkScript([{ name: 'data', checkPath: dir }])], { encoding: 'utf8' });

    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^homelab-backup digest data sha256=[0-9a-f]{64} files=2 bytes=13\n$/);
    expect(result.stdout).toBe(mover.stdout);
  });
});
