/**
 * The documents `npm run bench:validate` checks: plain manifests shaped like a real repository's,
 * in groups of 3 (a Deployment of an app and a log-shipping sidecar, its Service, and a
 * dashboard ConfigMap or a CRD document: ServiceMonitor, ExternalSecret or PrometheusRule),
 * consistent with each other. Two corpora of the same shape: `clean`, where the sidecar is
 * well-behaved (every check runs, no finding), and `mixed`, where it is as people add them
 * (a `latest` tag, no resources, no probes, may run as root, writable root filesystem), so a
 * third of the documents draw five findings each: real repositories have findings, and locating
 * them must not cost a second parse.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type CorpusKind = 'clean' | 'mixed';

function deployment(i: number, sidecar: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  labels:
    app.kubernetes.io/name: app-${i}
    app.kubernetes.io/part-of: bench
spec:
  replicas: 2
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      app.kubernetes.io/name: app-${i}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: app-${i}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: app
          image: ghcr.io/example/app-${i}:1.${i % 10}.0
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
            - name: LISTEN
              value: ":8080"
          resources:
            requests:
              cpu: 10m
              memory: 64Mi
            limits:
              memory: 128Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          readinessProbe:
            httpGet: { path: /healthz, port: http }
          livenessProbe:
            httpGet: { path: /healthz, port: http }
${sidecar}      volumes:
        - name: logs
          emptyDir: {}
`;
}

/** A log shipper as people add them: unpinned, no resources, no probes, root allowed, writable root filesystem. */
const SIDECAR_WITH_FINDINGS = `        - name: log-shipper
          image: docker.io/example/log-shipper:latest
          args: ["--source", "/var/log/app", "--sink", "stdout"]
          securityContext:
            runAsNonRoot: false
            runAsUser: 0
          volumeMounts:
            - name: logs
              mountPath: /var/log/app
`;

/** The same log shipper, pinned, bounded, probed and locked down. */
const SIDECAR_CLEAN = `        - name: log-shipper
          image: docker.io/example/log-shipper:2.4.1
          args: ["--source", "/var/log/app", "--sink", "stdout"]
          resources:
            requests:
              cpu: 5m
              memory: 32Mi
            limits:
              memory: 64Mi
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]
          readinessProbe:
            exec: { command: [/bin/log-shipper, --check] }
          livenessProbe:
            exec: { command: [/bin/log-shipper, --check] }
          volumeMounts:
            - name: logs
              mountPath: /var/log/app
`;

const service = (i: number) => `apiVersion: v1
kind: Service
metadata:
  name: app-${i}
  labels:
    app.kubernetes.io/name: app-${i}
spec:
  selector:
    app.kubernetes.io/name: app-${i}
  ports:
    - name: http
      port: 80
      targetPort: http
`;

/** A Grafana-dashboard-sized ConfigMap (~4 KB of JSON in a block scalar), as monitoring components ship them. */
const dashboard = (i: number) =>
  JSON.stringify(
    {
      uid: `app-${i}`,
      title: `app ${i}`,
      panels: Array.from({ length: 6 }, (_, p) => ({
        id: p + 1,
        title: `panel ${p}`,
        type: 'timeseries',
        datasource: { type: 'prometheus', uid: '${datasource}' },
        gridPos: { h: 8, w: 12, x: (p % 2) * 12, y: Math.floor(p / 2) * 8 },
        targets: [{ expr: `sum(rate(http_requests_total{namespace="$namespace", app="app-${i}", code=~"5.."}[5m])) by (pod)`, refId: 'A' }],
      })),
    },
    null,
    2,
  )
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

const configMap = (i: number) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-${i}-dashboard
  labels:
    grafana_dashboard: "1"
data:
  app-${i}.json: |
${dashboard(i)}
  FEATURE_FLAGS: "a,b,c"
`;

const crds = [
  (i: number) => `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: app-${i}
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: app-${i}
  endpoints:
    - port: http
      path: /metrics
      interval: 30s
`,
  (i: number) => `apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: app-${i}-secrets
spec:
  refreshInterval: 1h
  secretStoreRef:
    kind: ClusterSecretStore
    name: homelab
  target:
    name: app-${i}-secrets
  data:
    - secretKey: API_TOKEN
      remoteRef:
        key: app-${i}
        property: API_TOKEN
`,
  (i: number) => `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: app-${i}
spec:
  groups:
    - name: app-${i}
      rules:
        - alert: AppDown
          expr: up{job="app-${i}"} == 0
          for: 5m
          labels:
            severity: critical
          annotations:
            summary: app-${i} is down
`,
];

/**
 * The text of file number `f` of a corpus, `docs` documents, and how many of them draw findings
 * (every third document, from the first, in the mixed corpus; none in the clean one).
 */
export function corpusFile(kind: CorpusKind, f: number, docs: number): { text: string; withFindings: number } {
  let withFindings = 0;
  const sidecar = kind === 'mixed' ? SIDECAR_WITH_FINDINGS : SIDECAR_CLEAN;
  const parts: string[] = [];
  for (let d = 0; d < docs; d++) {
    const g = f * docs + d;
    const i = Math.floor(g / 3);
    const slot = g % 3;
    if (slot === 0 && kind === 'mixed') withFindings++;
    parts.push(slot === 0 ? deployment(i, sidecar) : slot === 1 ? service(i) : i % 2 ? configMap(i) : crds[i % crds.length](i));
  }
  return { text: parts.join('---\n'), withFindings };
}

/**
 * Writes `files` files of `docs` documents each into `dir`; returns how many documents and how
 * many of them draw findings (a third of them in the mixed corpus, none in the clean one).
 */
export function writeCorpus(dir: string, kind: CorpusKind, files: number, docs: number): { docs: number; withFindings: number } {
  let withFindings = 0;
  for (let f = 0; f < files; f++) {
    const file = corpusFile(kind, f, docs);
    withFindings += file.withFindings;
    fs.writeFileSync(path.join(dir, `manifests-${String(f).padStart(3, '0')}.yaml`), file.text);
  }
  return { docs: files * docs, withFindings };
}

/** The corpus the kubeconform comparison reads: the mixed one (schema-valid documents, a third of them drawing policy findings); returns the number of documents written. */
export function writeValidateCorpus(dir: string, files: number, docsPerFile: number): number {
  return writeCorpus(dir, 'mixed', files, docsPerFile).docs;
}
