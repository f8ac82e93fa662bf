import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateProject } from '../../tools/homelab/src/validate/project';
import { useCluster } from '../support/cluster';
import { applyOverlay } from '../support/apply';
import { installCatalogCrds } from '../support/crds';
import { notesDumpsHomelab } from '../support/database';
import { requireTool } from '../support/tools';
import { makeDiskWorkspace, removeDir } from '../support/workspace';

/**
 * The PostgreSQL dumps of a stateful stack on Kubernetes, on the real API server with the
 * catalog's CRDs: `notes` has its own PostgreSQL on a volume with `backup: { dump: postgres }` and
 * a database on the shared postgres component. Its dev overlay is built with the pinned kustomize
 * and server-side applied (a server dry run, then for real) into a namespace of its own, then read
 * back: a dump CronJob per database instead of a ReplicationSource for the dumped volume, the
 * repository and libpq Secrets of the environment, and the NetworkPolicies that let the dumps out
 * (and into the database service). No CronJob runs here (kwok plays the nodes); the containers'
 * scripts run for real in tests/backup/kubernetes-dump.e2e.test.ts.
 */
const kubectl = requireTool('kubectl');
const cluster = useCluster();


let root = '';
let ns = '';
let objects: any[] = [];
const get = (kind: string) => JSON.parse(cluster.kubectlOk(['get', kind, '-n', ns, '-o', 'json'])).items as any[];
const byName = (items: any[]) => Object.fromEntries(items.map((o) => [o.metadata.name, o]));
const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe.skipIf(kubectl.skip || cluster.skip)('PostgreSQL dumps on the real Kubernetes API', { timeout: 180_000 }, () => {
  beforeAll(() => {
    root = makeDiskWorkspace('api-dumps');
    notesDumpsHomelab(root);
    installCatalogCrds(cluster);
    ({ ns, objects } = applyOverlay(cluster, root, 'applications/kubernetes/overlays/dev/notes', 'notes-dev'));
  }, 600_000);
  afterAll(() => {
    if (ns) cluster.kubectl(['delete', 'namespace', ns, '--ignore-not-found', '--wait=false']);
    removeDir(root);
  });

  it('validates without an error as rendered (the warnings: the db service runs as the postgres image\'s user, as its spec allows)', () => {
    const findings = validateProject(root, 'applications', 'notes');

    expect(findings.filter((f) => f.severity === 'error').map((f) => `${f.rule} ${f.file} ${f.message}`)).toEqual([]);
    expect(findings.map((f) => f.rule)).not.toEqual([]);
    expect(findings.every((f) => f.rule === 'policy/run-as-non-root' && (f.message.includes('service db') || f.message.includes('container db')))).toBe(true);
  });

  it('dumps each database in a CronJob on the app\'s schedule and copies only the other volume with VolSync', () => {
    const cronJobs = byName(get('cronjobs'));
    expect(Object.keys(cronJobs).sort()).toEqual(['notes-database-dump', 'notes-pgdata-dump']);
    expect(get('replicationsources.volsync.backube').map((r) => [r.metadata.name, r.spec.restic.copyMethod])).toEqual([['notes-files', 'Direct']]);

    const own = cronJobs['notes-pgdata-dump'].spec;
    expect(own.schedule).toBe('0 3 * * *');
    const pod = own.jobTemplate.spec.template.spec;
    expect(pod.initContainers[0].image).toBe('postgres:16.4');
    expect(pod.initContainers[0].env.find((e: any) => e.name === 'POSTGRES_PASSWORD').valueFrom.secretKeyRef).toEqual({ name: 'notes-secrets', key: 'POSTGRES_PASSWORD' });
    expect(pod.containers[0]).toMatchObject({ image: 'restic/restic:0.18.0', envFrom: [{ secretRef: { name: 'notes-pgdata-restic' } }] });
    expect(pod.containers[0].args[0]).toContain('restic backup --host volsync --exclude=lost+found .');

    const shared = cronJobs['notes-database-dump'].spec.jobTemplate.spec.template.spec;
    expect(shared.initContainers[0].envFrom).toEqual([{ secretRef: { name: 'notes-database-dump' } }]);
    expect(shared.containers[0].envFrom).toEqual([{ secretRef: { name: 'notes-database-restic' } }]);
  });

  it('renders the environment\'s repositories and the libpq variables of its database, from the store', () => {
    const secrets = byName(get('externalsecrets.external-secrets.io'));

    expect(secrets['notes-pgdata-restic'].spec.target.template.data.RESTIC_REPOSITORY).toBe('{{ .repository }}/notes-dev/pgdata');
    expect(secrets['notes-database-restic'].spec.target.template.data.RESTIC_REPOSITORY).toBe('{{ .repository }}/notes-dev/database');
    expect(secrets['notes-database-dump'].spec.target.template.data).toEqual({
      PGHOST: 'postgres-rw.postgres.svc',
      PGPORT: '5432',
      PGDATABASE: 'notes_dev',
      PGUSER: 'notes_dev',
      PGPASSWORD: '{{ .password }}',
    });
  });

  it('lets the dump pods out to DNS, the databases and the repository, and into the database service on its port', () => {
    const policies = byName(get('networkpolicies'));
    const labels = byName(get('cronjobs'))['notes-pgdata-dump'].spec.jobTemplate.spec.template.metadata.labels;
    const db = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'db').spec.template.metadata.labels;

    const dump = policies['notes-backup-dump'].spec;
    expect(selects(dump.podSelector.matchLabels, labels)).toBe(true);
    expect(selects(dump.podSelector.matchLabels, db)).toBe(false);
    expect(dump.egress.map((rule: any) => rule.to[0].namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] ?? rule.to[0].ipBlock?.cidr ?? 'pods')).toEqual(['kube-system', 'pods', 'postgres', '0.0.0.0/0']);
    expect(selects(dump.egress[1].to[0].podSelector.matchLabels, db)).toBe(true);

    const into = policies['notes-db-from-backup-dump'].spec;
    expect(selects(into.podSelector.matchLabels, db)).toBe(true);
    expect(into.ingress).toEqual([{ from: [{ podSelector: { matchLabels: dump.podSelector.matchLabels } }], ports: [{ port: 5432, protocol: 'TCP' }] }]);
    // The app's Services never select a dump pod.
    for (const service of get('services')) expect(selects(service.spec.selector, labels)).toBe(false);
  });
});
