import type { BackupProvider } from '../../spec/types';
import type { ComponentName } from '../types';

/** Plain resources of a component's Kustomize base, besides its values files. */
export function baseResources(name: ComponentName, provider: BackupProvider, hasDatabases = false, volsyncMetrics = false, hasBarman = false): string[] {
  const resources = ['namespace.yaml'];
  // VolSync's metrics, scraped by the monitoring component's Prometheus (the apps' stale-backup alerts read them).
  if (name === 'backup' && volsyncMetrics) resources.push('servicemonitor.yaml');
  if (name === 'cert-manager') resources.push('clusterissuer.yaml');
  if (name === 'monitoring' || (name === 'backup' && provider === 'velero')) resources.push('externalsecret.yaml');
  if (name === 'postgres') resources.push('cluster.yaml');
  // The apps' databases: their roles' password Secrets and a Database object each.
  if (name === 'postgres' && hasDatabases) resources.push('externalsecret.yaml', 'database.yaml');
  // The Cluster's backups to the S3 target with the Barman Cloud plugin.
  if (name === 'postgres' && hasBarman) resources.push('objectstore.yaml', 'scheduledbackup.yaml');
  return resources;
}

/** The secret keys a component reads from the store (entry: the component's name). */
export function secretKeys(name: ComponentName, hasS3: boolean): string[] {
  if (name === 'monitoring') return ['GF_SECURITY_ADMIN_USER', 'GF_SECURITY_ADMIN_PASSWORD'];
  if (name === 'postgres') return ['POSTGRES_PASSWORD'];
  if (name === 'backup' && hasS3) return ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
  return [];
}
