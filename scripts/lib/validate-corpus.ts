/**
 * The corpus `npm run bench:validate` measures, read through this one function: FILES files of
 * DOCS documents in a folder, each document a kind `homelab validate` and kubeconform both check.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

function deployment(i: number): string {
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
`;
}

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
 * 20 documents a file: 5 apps of (Deployment, Service, ConfigMap, and one CRD document:
 * ServiceMonitor, ExternalSecret or PrometheusRule), consistent with each other, so a clean run
 * measures every check and no finding.
 */
export function writeValidateCorpus(dir: string, files: number, docsPerFile: number): number {
  let docs = 0;
  for (let f = 0; f < files; f++) {
    const parts: string[] = [];
    for (let d = 0; d < docsPerFile; d++) {
      const i = f * docsPerFile + Math.floor(d / 4);
      const slot = d % 4;
      parts.push(slot === 0 ? deployment(i) : slot === 1 ? service(i) : slot === 2 ? configMap(i) : crds[i % crds.length](i));
      docs++;
    }
    fs.writeFileSync(path.join(dir, `manifests-${String(f).padStart(3, '0')}.yaml`), parts.join('---\n'));
  }
  return docs;
}
