import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { specOf } from '../../../../tests/support/spec';
import { makeTempDir, parseDoc, parseDocs, removeDir, WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { RenderError } from '../errors';
import { parseWorkspaceConfig } from '../spec/io';
import type { Dependencies } from '../app/normalized';
import { normalizeApp } from '../app/normalize';
import type { AppSpec, WorkspaceConfig } from '../spec/types';
import { renderApp } from './app';
import { TEMPLATES_DIR, type RenderedFile } from './engine';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const render = (spec: AppSpec, ws: WorkspaceConfig = workspace, dependencies: Dependencies = new Map()) => renderApp(normalizeApp(spec, ws, dependencies));
const byPath = (files: RenderedFile[]) => new Map(files.map((f) => [f.path, f]));
const doc = (files: RenderedFile[], file: string) => {
  const found = byPath(files).get(file);
  if (!found) throw new Error(`${file} was not rendered; rendered: ${files.map((f) => f.path).join(', ')}`);
  return parseDoc(found.content);
};

const BASE = 'applications/kubernetes/base/web';
const OVERLAY = 'applications/kubernetes/overlays';
const VOLUMES: AppSpec['volumes'] = [{ name: 'data', size: '1Gi', mountPath: '/data' }];

describe('renderApp', () => {
  it('renders a minimal app to this list of files, in a stable order', () => {
    expect(render(specOf('web')).map((f) => `${f.owner} ${f.path}`)).toEqual([
      `spec ${BASE}/kustomization.yaml`,
      `spec ${BASE}/serviceaccount.yaml`,
      `spec ${BASE}/deployment.yaml`,
      `spec ${BASE}/service.yaml`,
      `spec ${BASE}/components/network-policy/kustomization.yaml`,
      `spec ${BASE}/components/network-policy/networkpolicy.yaml`,
      `spec ${BASE}/components/monitoring/kustomization.yaml`,
      `spec ${BASE}/components/monitoring/configmap.yaml`,
      'spec applications/compose/base/web/compose.yaml',
      'spec applications/runbooks/web.md',
      'spec applications/compose/monitoring/dashboards/web.json',
      `user ${OVERLAY}/dev/web/kustomization.yaml`,
      `spec ${OVERLAY}/dev/web/generated/kustomization.yaml`,
      `spec ${OVERLAY}/dev/web/generated/prometheusrule.yaml`,
      `spec ${OVERLAY}/dev/web/generated/resourcequota.yaml`,
      `spec ${OVERLAY}/dev/web/generated/limitrange.yaml`,
      'spec applications/compose/environments/dev/web/compose.generated.yaml',
      'user applications/compose/environments/dev/web/compose.override.yaml',
      'spec applications/compose/monitoring/rules/dev/web.yaml',
      'spec platform/argocd/applications/dev/web.yaml',
      `user ${OVERLAY}/prod/web/kustomization.yaml`,
      `spec ${OVERLAY}/prod/web/generated/kustomization.yaml`,
      `spec ${OVERLAY}/prod/web/generated/prometheusrule.yaml`,
      `spec ${OVERLAY}/prod/web/generated/resourcequota.yaml`,
      `spec ${OVERLAY}/prod/web/generated/limitrange.yaml`,
      'spec applications/compose/environments/prod/web/compose.generated.yaml',
      'user applications/compose/environments/prod/web/compose.override.yaml',
      'spec applications/compose/monitoring/rules/prod/web.yaml',
      'spec platform/argocd/applications/prod/web.yaml',
    ]);
  });

  it('is pure: the same spec renders the same bytes', () => {
    const spec = specOf('web', { volumes: VOLUMES, ingress: { host: 'web.example.org' }, secrets: [{ key: 'T', remoteKey: 'web' }] });

    expect(render(spec)).toEqual(render(structuredClone(spec)));
  });

  it('ends every file with exactly one newline and starts no file with a document marker', () => {
    for (const file of render(specOf('web', { volumes: VOLUMES, monitoring: { metrics: {} } }))) {
      expect(file.content.endsWith('\n') && !file.content.endsWith('\n\n'), file.path).toBe(true);
      expect(file.content.startsWith('---'), file.path).toBe(false);
    }
  });

  it('keeps the Compose base and the Kubernetes workload consistent: image, env, port, memory limit, health path', () => {
    const files = render(
      specOf('web', {
        env: { MODE: 'production' },
        resources: { limits: { memory: '1Gi' } },
        health: { http: { path: '/ready' } },
      }),
    );

    const container = doc(files, `${BASE}/deployment.yaml`).spec.template.spec.containers[0];
    const service = doc(files, 'applications/compose/base/web/compose.yaml').services.web;
    expect(service.image).toBe(container.image);
    expect(service.environment).toEqual({ MODE: 'production' });
    expect(container.env).toEqual([{ name: 'MODE', value: 'production' }]);
    expect(service.expose).toEqual([container.ports[0].containerPort]);
    expect(container.resources.limits.memory).toBe('1Gi');
    expect(service.deploy.resources.limits.memory).toBe('1g');
    expect(container.readinessProbe.httpGet.path).toBe('/ready');
    expect(service.healthcheck.test).toEqual(['CMD', 'wget', '-q', '--spider', 'http://127.0.0.1:8080/ready']);
  });

  it('probes with the spec command on both platforms when health is a command', () => {
    const files = render(specOf('web', { health: { command: ['/bin/app', 'check'] } }));

    const container = doc(files, `${BASE}/deployment.yaml`).spec.template.spec.containers[0];
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      expect(container[probe].exec).toEqual({ command: ['/bin/app', 'check'] });
      expect(container[probe].httpGet).toBeUndefined();
    }
    expect(doc(files, 'applications/compose/base/web/compose.yaml').services.web.healthcheck.test).toEqual(['CMD', '/bin/app', 'check']);
  });

  it('allows egress to the internet only when the spec asks, and never to private ranges', () => {
    const closed = parseDocs(byPath(render(specOf('web'))).get(`${BASE}/components/network-policy/networkpolicy.yaml`)!.content)[1];
    const open = parseDocs(byPath(render(specOf('web', { network: { allowInternet: true } }))).get(`${BASE}/components/network-policy/networkpolicy.yaml`)!.content)[1];

    expect(closed.spec.egress.some((rule: { to: { ipBlock?: unknown }[] }) => rule.to.some((t) => t.ipBlock))).toBe(false);
    expect(open.spec.egress.at(-1)).toEqual({
      to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] } }],
    });
  });

  it.each([
    { probe: 'outside' as const, healthcheck: undefined, probes: true },
    { probe: 'none' as const, healthcheck: undefined, probes: false },
  ])('with health.probe $probe, renders no Compose healthcheck (Kubernetes probes: $probes)', ({ probe, healthcheck, probes }) => {
    const files = render(specOf('web', { health: { probe } }));

    expect(doc(files, 'applications/compose/base/web/compose.yaml').services.web.healthcheck).toEqual(healthcheck);
    const container = doc(files, `${BASE}/deployment.yaml`).spec.template.spec.containers[0];
    expect(['startupProbe', 'livenessProbe', 'readinessProbe'].filter((p) => p in container)).toEqual(probes ? ['startupProbe', 'livenessProbe', 'readinessProbe'] : []);
  });

  it('allows egress to the namespace of each infrastructure dependency', () => {
    const files = render(specOf('web', { dependsOn: ['postgres'] }), workspace, new Map([['postgres', { kubernetes: true, namespace: 'postgres' }]]));
    const allow = parseDocs(byPath(files).get(`${BASE}/components/network-policy/networkpolicy.yaml`)!.content)[1];

    expect(allow.spec.egress).toContainEqual({ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'postgres' } } }] });
  });

  describe('with another backup provider or ingress kind in homelab.yaml', () => {
    it('renders a Velero Schedule per environment in the velero namespace', () => {
      const files = render(specOf('web', { volumes: VOLUMES }), { ...workspace, backup: { provider: 'velero' } });

      const schedule = doc(files, `${OVERLAY}/dev/web/generated/schedule.yaml`);
      expect(schedule).toMatchObject({ apiVersion: 'velero.io/v1', kind: 'Schedule', metadata: { name: 'web-dev', namespace: 'velero' } });
      expect(schedule.spec.template.includedNamespaces).toEqual(['web-dev']);
      expect(schedule.spec.schedule).toBe('0 3 * * *');
      expect(byPath(files).has(`${BASE}/components/backup/kustomization.yaml`)).toBe(false);
      expect(doc(files, `${BASE}/kustomization.yaml`).components).not.toContain('components/backup');
    });

    it('renders a k8up Schedule and its credentials in the base backup component', () => {
      const files = render(specOf('web', { volumes: VOLUMES }), {
        ...workspace,
        backup: { provider: 'k8up', s3: { endpoint: 'https://s3.example.org', bucket: 'backups' } },
      });

      expect(doc(files, `${BASE}/components/backup/kustomization.yaml`).resources).toEqual(['schedule.yaml', 'externalsecret.yaml']);
      const schedule = doc(files, `${BASE}/components/backup/schedule.yaml`);
      expect(schedule).toMatchObject({ apiVersion: 'k8up.io/v1', kind: 'Schedule' });
      expect(schedule.spec.backend.s3).toMatchObject({ endpoint: 'https://s3.example.org', bucket: 'backups' });
      expect(doc(files, `${BASE}/components/backup/externalsecret.yaml`).apiVersion).toBe('external-secrets.io/v1');
      expect(byPath(files).has(`${BASE}/components/backup/replicationsource.yaml`)).toBe(false);
    });

    it('renders a Gateway API HTTPRoute instead of an Ingress, and patches its hostname per environment', () => {
      const files = render(specOf('web', { ingress: { host: 'web.example.org' }, environments: { dev: { host: 'web.dev.example.org' }, prod: {} } }), {
        ...workspace,
        ingress: { kind: 'httproute', gateway: { name: 'main', namespace: 'gateways' } },
      });

      expect(byPath(files).has(`${BASE}/ingress.yaml`)).toBe(false);
      const route = doc(files, `${BASE}/httproute.yaml`);
      expect(route).toMatchObject({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' });
      expect(route.spec.parentRefs).toEqual([{ name: 'main', namespace: 'gateways' }]);
      expect(route.spec.hostnames).toEqual(['web.example.org']);
      expect(route.spec.rules[0].backendRefs).toEqual([{ name: 'web', port: 8080 }]);
      expect(doc(files, `${OVERLAY}/dev/web/generated/ingress-patch.yaml`)).toEqual({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'web' },
        spec: { hostnames: ['web.dev.example.org'] },
      });
    });

    it('leaves out the cert-manager annotation and the TLS block when the spec turns TLS off', () => {
      const ingress = doc(render(specOf('web', { ingress: { host: 'web.example.org', tls: false } })), `${BASE}/ingress.yaml`);

      expect(ingress.metadata.annotations).toBeUndefined();
      expect(ingress.spec.tls).toBeUndefined();
    });
  });

  describe('refuses a template bug instead of writing it', () => {
    const dir = makeTempDir('broken-templates');
    afterAll(() => removeDir(dir));

    it('throws a RenderError naming the file when a rendered YAML file does not parse back', () => {
      fs.cpSync(TEMPLATES_DIR, dir, { recursive: true });
      fs.appendFileSync(path.join(dir, 'app/applications/kubernetes/base/__name__/service.yaml.hbs'), 'spec: {}\n');

      expect(() => renderApp(normalizeApp(specOf('web'), workspace, new Map()), dir)).toThrow(RenderError);
      expect(() => renderApp(normalizeApp(specOf('web'), workspace, new Map()), dir)).toThrow(/^applications\/kubernetes\/base\/web\/service\.yaml: rendered YAML does not parse back/);
    });
  });
});
