import { InputError, show } from '../errors';
import { assertParsesBack, renderTemplate } from '../render/engine';
import { tidy } from '../render/app';
import type { NormalizedApp } from '../app/normalized';
import { RESTIC_IMAGE, resticRepository } from '../app/steps/backup';
import { shellWord, VOLUME_DIGEST_SH } from '../app/steps/compose-backup';
import type { WorkspaceConfig } from '../spec/types';

/** One file of the drill: what `kubectl apply -f` takes, named as the steps name it. */
export interface DrillFile {
  path: string;
  content: string;
}

/** The restore drill of an app on Kubernetes: its scratch namespace, the files to apply, and the steps that use them. */
export interface KubernetesDrill {
  namespace: string;
  /** `drill.yaml` (namespace, repository Secrets, a ReplicationDestination and a PVC per volume), then `drill-check.yaml` (the pod that reads them). */
  files: DrillFile[];
  /** What to run, one numbered step a line, with the environment's kube context. */
  steps: string;
}

/** The value of `trigger.manual`: VolSync sets `status.lastManualSync` to it when the restore is done. */
export const DRILL_TRIGGER = 'drill';

/**
 * The check pod's script: one line per restored volume, exactly as the Compose mover prints it
 * after a backup (`homelab-backup digest <volume> sha256=<hex> files=<n> bytes=<n>`), with the
 * mover's own `volume_digest` (app/backup/digest.sh), so a digest taken on one platform compares
 * with one taken on the other. POSIX sh with busybox's or Alpine's applets.
 */
export function checkScript(volumes: { name: string; checkPath: string }[]): string {
  return `${VOLUME_DIGEST_SH}${volumes.map((v) => `echo "homelab-backup digest ${v.name} $(volume_digest ${shellWord(v.checkPath)})"`).join('\n')}`;
}

/**
 * Renders the restore drill of an app in one environment on Kubernetes (docs/backup.md,
 * "Kubernetes"): a scratch namespace `<namespace>-drill` holding, per backed-up volume, the
 * repository Secret (the same ExternalSecret as the app's, reading the live namespace's
 * repository), a VolSync ReplicationDestination triggered once and a PVC it fills, and a pod that
 * prints each restored volume's digest. A volume copied with `Snapshot` gets the volume
 * populator (a PVC with `dataSourceRef` to the ReplicationDestination, which VolSync allows only
 * with `copyMethod: Snapshot`); on storage without CSI snapshots (`Direct`, `Clone`) the PVC is
 * created empty and the ReplicationDestination restores into it (`destinationPVC`).
 * Nothing here touches the live namespace: the drill reads the repositories and writes only in its own.
 * @example renderKubernetesDrill(app, 'dev', workspace).files.map((f) => f.path) // ['drill.yaml', 'drill-check.yaml']
 */
export function renderKubernetesDrill(app: NormalizedApp, env: string, workspace: WorkspaceConfig, templatesDir?: string): KubernetesDrill {
  const environment = app.environments.find((e) => e.name === env);
  if (!environment) {
    throw new InputError(`${app.paths.spec}: ${show(app.name)} does not run in environment ${show(env)}; use one of ${app.environments.map((e) => show(e.name)).join(', ')}`);
  }
  if (!app.backup.isVolsync || app.backup.volumes.length === 0) {
    const why = app.backup.volumes.length === 0 ? 'has no backed-up volume' : `is backed up by ${app.backup.provider}, and the drill restores VolSync's restic repositories`;
    throw new InputError(`${app.paths.spec}: ${show(app.name)} ${why}; a restore drill on Kubernetes needs homelab.yaml backup.provider volsync and a volume with backup not false`);
  }
  const namespace = `${environment.namespace}-drill`;
  const volumes = app.backup.volumes.map((v) => {
    // The destination of a restore has no Clone: Snapshot where the storage has CSI snapshots, else Direct.
    const isSnapshot = v.copyMethod === 'Snapshot';
    return {
      name: v.name,
      claimName: v.claimName,
      resticSecret: v.resticSecret,
      repository: resticRepository(app.backup.s3, environment.namespace, v.name),
      copyMethod: isSnapshot ? 'Snapshot' : 'Direct',
      copyMethodReason: isSnapshot ? 'into a VolumeSnapshot the PVC is populated from' : 'straight into the PVC: the storage has no CSI snapshots',
      isSnapshot,
      size: v.size,
      accessModes: [v.readWriteMany ? 'ReadWriteMany' : 'ReadWriteOnce'],
      storageClass: v.storageClass,
      moverSecurityContext: app.security.imageUser ? null : { runAsUser: app.security.runAsUser, runAsGroup: app.security.runAsGroup },
      checkPath: `/drill/${v.name}`,
    };
  });
  const checkPod = `${app.name}-drill-check`;
  const drill = {
    app: app.name,
    env,
    namespace,
    sourceNamespace: environment.namespace,
    labels: { 'app.kubernetes.io/part-of': 'homelab', 'app.kubernetes.io/managed-by': 'homelab', 'homelab.dev/drill': app.name },
    store: app.secrets.store,
    repositoryKey: app.backup.repositoryKey,
    // An External Secrets template, resolved in the cluster from the store: never a value here.
    password: '{{ .password }}',
    trigger: DRILL_TRIGGER,
    volumes,
    checkPod,
    image: RESTIC_IMAGE,
    checkUser: app.security.imageUser ? null : { runAsUser: app.security.runAsUser, runAsGroup: app.security.runAsGroup },
    checkScript: checkScript(volumes),
  };
  const render = (template: string, path: string): DrillFile => {
    const content = tidy(renderTemplate(`app/drill/${template}`, { drill }, templatesDir));
    assertParsesBack(path, content);
    return { path, content };
  };
  const files = [render('kubernetes.yaml', 'drill.yaml'), render('check.yaml', 'drill-check.yaml')];
  const context = workspace.environments.find((e) => e.name === env)?.kubernetes?.context;
  const kubectl = `kubectl${context ? ` --context ${context}` : ''}`;
  const inDrill = `${kubectl} -n ${namespace}`;
  const steps = [
    `Restore drill of ${app.name} in ${env}: the latest backups of ${environment.namespace} restored into the scratch namespace ${namespace}.`,
    `1. Apply the namespace, the repository Secrets, a ReplicationDestination and a PVC per volume: ${kubectl} apply -f drill.yaml`,
    `2. Wait for each restore: ${volumes.map((v) => `${inDrill} wait replicationdestination/${v.claimName} --for=jsonpath='{.status.lastManualSync}'=${DRILL_TRIGGER} --timeout=30m`).join(' && ')}`,
    `3. Read the restored volumes: ${kubectl} apply -f drill-check.yaml && ${inDrill} wait pod/${checkPod} --for=jsonpath='{.status.phase}'=Succeeded --timeout=10m && ${inDrill} logs pod/${checkPod}`,
    `   It prints one line per volume, homelab-backup digest <volume> sha256=… files=… bytes=…: compare it with the same computation on the live volume, when nothing has written since the backup.`,
    `4. Delete the scratch namespace, and the restored data with it: ${kubectl} delete namespace ${namespace} --wait=false`,
  ].join('\n');
  return { namespace, files, steps: `${steps}\n` };
}
