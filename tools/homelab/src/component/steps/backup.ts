import { InputError, show } from '../../errors';
import { backupS3 } from '../../spec/backup-target';
import type { BackupProvider, WorkspaceConfig } from '../../spec/types';
import type { CatalogEntry } from '../catalog';
import type { NormalizedComponent } from '../normalize';
import type { ComponentSpec } from '../types';

export interface BackupSettings {
  provider: BackupProvider;
  s3: { endpoint: string; bucket: string } | null;
  retentionDays: number;
  backup: NormalizedComponent['backup'];
}

/**
 * The backup operator and its storage: the backup component's provider must be homelab.yaml's
 * (the apps' backup stanzas follow homelab.yaml), and Velero needs an S3 location.
 */
export function normalizeBackup(spec: ComponentSpec, entry: CatalogEntry, workspace: WorkspaceConfig, where: string, monitored = false): BackupSettings {
  const settings = spec.settings ?? {};
  const provider = settings.provider ?? 'volsync';
  const wanted = workspace.backup?.provider ?? 'volsync';
  if (spec.name === 'backup' && provider !== wanted) {
    throw new InputError(`${where}: settings.provider ${show(provider)} differs from homelab.yaml backup.provider ${show(wanted)}; re-run nx g homelab:infra backup --force to switch operators`);
  }
  const s3 = backupS3(workspace);
  if (spec.name === 'backup' && provider === 'velero' && !s3) {
    throw new InputError(`homelab.yaml: backup.provider "velero" needs backup.s3 (endpoint and bucket) for Velero's storage location; add them`);
  }
  const retentionDays = settings.retentionDays ?? entry.settings({}, workspace).retentionDays ?? 7;
  return {
    provider,
    s3,
    retentionDays,
    backup: {
      isVelero: spec.name === 'backup' && provider === 'velero',
      veleroSecret: 'velero-credentials',
      // External Secrets template: resolved in the cluster from the store, never here.
      veleroCredentialsTemplate: '[default]\naws_access_key_id={{ .AWS_ACCESS_KEY_ID }}\naws_secret_access_key={{ .AWS_SECRET_ACCESS_KEY }}\n',
      repositoryKey: workspace.backup?.repositoryKey ?? 'homelab/restic',
      // The chart's release `volsync` names its metrics Service's selector `control-plane: volsync-controller`.
      volsyncMetrics:
        spec.name === 'backup' && provider === 'volsync' && monitored
          ? { name: 'volsync-metrics', release: workspace.monitoring?.release ?? 'kube-prometheus-stack', controller: 'volsync-controller' }
          : null,
    },
  };
}
