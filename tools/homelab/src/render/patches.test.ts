import { describe, expect, it } from 'vitest';
import { contentOf, inputErrorOf, patchedStack, renderedStacks, specOf } from '../../../../tests/support/spec';
import { parseDoc, parseDocs, WORKSPACE_YAML } from '../../../../tests/support/workspace';
import { normalizeApp } from '../app/normalize';
import { parseWorkspaceConfig } from '../spec/io';
import type { AppSpec } from '../spec/types';
import { renderApp } from './app';
import type { RenderedFile } from './engine';

const workspace = parseWorkspaceConfig(WORKSPACE_YAML);
const relay = patchedStack();
const readRelayFile = (file: string) => relay.files[file] ?? null;
const normalize = (spec: AppSpec, read: (file: string) => string | null = readRelayFile) => normalizeApp(spec, workspace, new Map(), read);
const render = (spec: AppSpec) => renderApp(normalize(spec));
const BASE = 'applications/kubernetes/base/relay';
const COMPOSE_BASE = 'applications/compose/base/relay';

describe('patches: the escape hatch on each platform', () => {
  const files = render(relay.spec);
  const kustomization = parseDoc(contentOf(files, `${BASE}/kustomization.yaml`));

  it("lists each Kubernetes patch in the base's kustomization, with its target and the object Kustomize needs", () => {
    expect(kustomization.patches.map((p: { target: object }) => p.target)).toEqual([{ kind: 'Deployment', name: 'broker' }, { kind: 'Service' }]);
    expect(parseDoc(kustomization.patches[0].patch)).toEqual({
      kind: 'Deployment',
      metadata: { name: 'broker', annotations: { 'example.org/owner': 'relay-team' } },
      spec: { template: { spec: { enableServiceLinks: false, containers: [{ name: 'broker', terminationMessagePolicy: 'FallbackToLogsOnError' }] } } },
    });
    // Without a name the patch changes every object of the kind; Kustomize still needs one in the patch.
    expect(parseDoc(kustomization.patches[1].patch)).toEqual({ kind: 'Service', metadata: { name: 'broker', annotations: { 'example.org/shared': 'true' } } });
  });

  it('keeps the patches out of the manifests: one kind per file', () => {
    expect(contentOf(files, `${BASE}/deployment.yaml`)).not.toContain('FallbackToLogsOnError');
    expect(files.filter((f) => f.path.startsWith(`${BASE}/`)).map((f) => f.path)).not.toContain(`${BASE}/patches.yaml`);
  });

  it('writes the Compose fragment as compose.patch.yaml in the base, and names it in the run command', () => {
    expect(parseDoc(contentOf(files, `${COMPOSE_BASE}/compose.patch.yaml`))).toEqual({ services: { broker: { ulimits: { nofile: { soft: 65536, hard: 65536 } }, stop_signal: 'SIGINT' } } });
    expect(contentOf(files, `${COMPOSE_BASE}/compose.yaml`)).toContain('# Run an environment with: docker compose -f compose.yaml -f compose.patch.yaml -f ../../environments/<env>/relay/compose.generated.yaml');
    expect(parseDoc(contentOf(files, `${COMPOSE_BASE}/compose.yaml`)).services.broker.ulimits).toBeUndefined();
  });

  it('says what each patch touches, for validate to name where the platforms differ', () => {
    const { patches } = normalize(relay.spec);

    expect(patches.kubernetes.map((p) => p.touches)).toEqual([
      {
        kind: 'Deployment',
        name: 'broker',
        paths: ['metadata.annotations.example.org/owner', 'spec.template.spec.enableServiceLinks', 'spec.template.spec.containers[name=broker].terminationMessagePolicy'],
      },
      { kind: 'Service', name: null, paths: ['metadata.annotations.example.org/shared'] },
    ]);
    expect(patches.compose?.touches).toEqual({ services: [{ service: 'broker', keys: ['stop_signal', 'ulimits'] }], sections: [] });
  });

  it('renders the shorthand with patches, and without them the same files as before', () => {
    const plain = renderApp(normalize(specOf('web')));
    const patched = renderApp(
      normalize(
        specOf('web', {
          patches: {
            kubernetes: [{ target: { kind: 'Deployment', name: 'web' }, patch: { spec: { revisionHistoryLimit: 3 } } }],
            compose: { services: { web: { stop_signal: 'SIGQUIT' } }, volumes: { extra: {} } },
          },
        }),
      ),
    );

    expect(plain.map((f) => f.path)).not.toContain('applications/compose/base/web/compose.patch.yaml');
    expect(parseDoc(contentOf(plain, 'applications/kubernetes/base/web/kustomization.yaml')).patches).toBeUndefined();
    expect(parseDoc(contentOf(patched, 'applications/kubernetes/base/web/kustomization.yaml')).patches).toEqual([
      { target: { kind: 'Deployment', name: 'web' }, patch: 'kind: Deployment\nmetadata:\n  name: web\nspec:\n  revisionHistoryLimit: 3' },
    ]);
    expect(parseDoc(contentOf(patched, 'applications/compose/base/web/compose.patch.yaml'))).toEqual({ services: { web: { stop_signal: 'SIGQUIT' } }, volumes: { extra: {} } });
    // Only the new files and the lines that name them differ.
    const differing = patched.filter((f) => plain.find((p) => p.path === f.path)?.content !== f.content).map((f) => f.path);
    expect(differing.sort()).toEqual([
      'applications/compose/base/web/compose.patch.yaml',
      'applications/compose/base/web/compose.yaml',
      'applications/compose/environments/dev/web/compose.override.yaml',
      'applications/compose/environments/prod/web/compose.override.yaml',
      'applications/kubernetes/base/web/kustomization.yaml',
    ]);
  });

  it.each([...renderedStacks(), relay.spec, specOf('web', { secrets: [{ key: 'A', remoteKey: 'web' }], volumes: [{ name: 'data', size: '1Gi', mountPath: '/data' }], ingress: { host: 'web.example.org' } })])(
    'offers as patch targets exactly the objects of the base of $name',
    (spec) => {
      const app = normalize(spec);
      const rendered = renderApp(app)
        .filter((f) => f.path.startsWith(`${app.paths.k8sBase}/`) && !f.path.includes('/components/') && !f.path.endsWith('/kustomization.yaml'))
        .flatMap((f) => parseDocs(f.content))
        .map((o) => `${o.kind}/${o.metadata.name}`);

      expect(app.patches.targets.map((o) => `${o.kind}/${o.name}`).sort()).toEqual(rendered.sort());
    },
  );

  it.each([
    ['a target the base does not render', { kubernetes: [{ target: { kind: 'Deployment', name: 'brokr' }, patch: {} }] }, 'patches.kubernetes[0].target "Deployment/brokr" matches nothing the app renders in its base; target one of ServiceAccount/relay, Deployment/broker'],
    ['a kind the base does not render', { kubernetes: [{ target: { kind: 'Ingress' }, patch: {} }] }, 'patches.kubernetes[0].target "Ingress" matches nothing the app renders in its base'],
    ['a patch that names its kind', { kubernetes: [{ target: { kind: 'Service' }, patch: { kind: 'Service' } }] }, 'patches.kubernetes[0].patch.kind: the target says which object a patch changes; remove kind from the patch'],
    ['a patch that renames its object', { kubernetes: [{ target: { kind: 'Service', name: 'broker' }, patch: { metadata: { name: 'other' } } }] }, 'patches.kubernetes[0].patch.metadata.name: homelab names and places the app\'s objects; remove metadata.name from the patch (target.name says which object)'],
    ['a patch that moves its object', { kubernetes: [{ target: { kind: 'Service', name: 'broker' }, patch: { metadata: { namespace: 'other' } } }] }, 'patches.kubernetes[0].patch.metadata.namespace: homelab names and places'],
    ["a fragment that sets the project's name", { compose: { name: 'other' } }, "patches.compose.name: homelab sets the project's name; remove name from the fragment"],
    ['a fragment that includes files', { compose: { include: ['x.yaml'] } }, "patches.compose.include: homelab sets the project's files; remove include from the fragment"],
    ['a fragment service that is no map', { compose: { services: { broker: ['x'] } } }, 'patches.compose.services.broker "[\\"x\\"]" is not a map; write the Compose keys to change'],
  ])('refuses %s in one line', (_label, patches, message) => {
    const spec = { ...relay.spec, patches } as AppSpec;
    const error = inputErrorOf(() => render(spec));

    expect(error).toContain(`applications/specs/relay.yaml: ${message}`);
    expect(error).not.toMatch(/\n/);
  });
});

describe('config files kept beside the spec', () => {
  const files = render(relay.spec);

  it('renders the file as a ConfigMap and as a Compose config, naming where it is kept', () => {
    const configMap = contentOf(files, `${BASE}/configmap.yaml`);
    expect(parseDoc(configMap)).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'relay-config' }, data: { config: 'listener 1883\nallow_anonymous false\n' } });
    expect(configMap).toContain('# Its data is applications/specs/relay/broker.conf (config.file in the spec)');

    const compose = parseDoc(contentOf(files, `${COMPOSE_BASE}/compose.yaml`));
    expect(compose.configs.config.content).toBe('listener 1883\nallow_anonymous false\n');
    expect(compose.services.broker.configs).toEqual([{ source: 'config', target: '/etc/broker/broker.conf' }]);
  });

  it('renders new content when the file changes', () => {
    const changed = renderApp(normalize(relay.spec, (file) => (file === 'applications/specs/relay/broker.conf' ? 'listener 8883\n' : null)));

    expect(parseDoc(contentOf(changed, `${BASE}/configmap.yaml`)).data.config).toBe('listener 8883\n');
    expect(parseDoc(contentOf(changed, `${COMPOSE_BASE}/compose.yaml`)).configs.config.content).toBe('listener 8883\n');
  });
});

describe('a schedule per environment', () => {
  const files = render(relay.spec);

  it("patches the CronJob's schedule in the environment that overrides it, and only there", () => {
    const [patch] = parseDocs(contentOf(files, 'applications/kubernetes/overlays/prod/relay/generated/workload-patch.yaml'));
    expect(patch).toEqual({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'purge' }, spec: { schedule: '30 2 * * 0' } });
    expect(files.map((f) => f.path)).not.toContain('applications/kubernetes/overlays/dev/relay/generated/workload-patch.yaml');
  });

  it("writes the environment's schedule into its crontab and the service's schedule label on Compose", () => {
    const prod = parseDoc(contentOf(files, 'applications/compose/environments/prod/relay/compose.generated.yaml'));
    const dev = parseDoc(contentOf(files, 'applications/compose/environments/dev/relay/compose.generated.yaml'));

    expect(prod.configs.crontab.content).toMatch(/^30 2 \* \* 0 docker start -a relay\S*-purge-1\n$/);
    expect(prod.services.purge.labels).toEqual({ 'homelab.schedule': '30 2 * * 0' });
    expect(dev.configs.crontab.content).toMatch(/^0 4 \* \* \* docker start -a relay\S*-purge-1\n$/);
    expect(dev.services.purge).toEqual({});
  });
});
