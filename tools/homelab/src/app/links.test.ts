import { describe, expect, it } from 'vitest';
import { specOf, writeSpec } from '../../../../tests/support/spec';
import { parseDoc, parseDocs, workspaceTree } from '../../../../tests/support/workspace';
import { type FileHost, readOnceHost, treeHost } from '../host';
import type { AppSpec } from '../spec/types';
import { SpecError } from '../spec/problems';
import { renderApp } from '../render/app';
import { checkAppSpec, readWorkspace } from './plan';
import { readAppLinks } from './links';
import { generateApp } from './generate';
import { syncAll } from '../workspace/sync';
import { generateRemove } from '../workspace/remove';

/** A workspace (dev with -dev, prod) holding these app specs. */
function hostWith(...specs: AppSpec[]): FileHost {
  const host = treeHost(workspaceTree().tree);
  for (const spec of specs) writeSpec(host, spec);
  return host;
}

/** Every file the app renders, by path. */
function render(host: FileHost, name: string): Record<string, string> {
  const file = `applications/specs/${name}.yaml`;
  const { app } = checkAppSpec(host, host.read(file)!, file, readWorkspace(host));
  return Object.fromEntries(renderApp(app).map((f) => [f.path, f.content]));
}

/** The problems of the app's spec, as `rule: message`. */
function problems(host: FileHost, name: string): string[] {
  try {
    render(host, name);
  } catch (error) {
    if (error instanceof SpecError) return error.problems.map((p) => `${p.rule}: ${p.message}`);
    throw error;
  }
  throw new Error(`expected ${name} to be refused`);
}

const api = specOf('api', { ports: [{ name: 'http', port: 8080, http: true }, { name: 'grpc', port: 9090 }] });
const web = specOf('web', { dependsOn: ['api'] });

describe('apps that depend on apps (dependsOn: [another-app])', () => {
  it("opens the dependent's egress to the dependency's namespace, per environment, in the overlay's generated NetworkPolicy", () => {
    const files = render(hostWith(api, web), 'web');

    for (const [env, namespace] of [['dev', 'api-dev'], ['prod', 'api']]) {
      const policy = parseDoc(files[`applications/kubernetes/overlays/${env}/web/generated/networkpolicy.yaml`]);
      expect(policy.metadata.name).toBe('web-apps');
      expect(policy.spec.podSelector).toEqual({ matchLabels: { 'app.kubernetes.io/name': 'web' } });
      expect(policy.spec.policyTypes).toEqual(['Egress']);
      expect(policy.spec.egress).toEqual([{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } }] }]);
      expect(policy.spec.ingress).toBeUndefined();
      expect(parseDoc(files[`applications/kubernetes/overlays/${env}/web/generated/kustomization.yaml`]).resources).toContain('networkpolicy.yaml');
    }
    // The base's policy still opens only components: app namespaces differ per environment.
    const base = parseDocs(files['applications/kubernetes/base/web/components/network-policy/networkpolicy.yaml']);
    const namespaces = base[1].spec.egress.flatMap((rule: any) => rule.to.map((to: any) => to.namespaceSelector?.matchLabels['kubernetes.io/metadata.name']));
    expect(namespaces).toEqual(['kube-system']);
  });

  it("opens the dependency's ingress from the dependent's namespace to its named ports: its render depends on who depends on it", () => {
    const files = render(hostWith(api, web), 'api');

    const policy = parseDoc(files['applications/kubernetes/overlays/dev/api/generated/networkpolicy.yaml']);
    expect(policy.metadata.name).toBe('api-apps');
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'web-dev' } } }],
        ports: [
          { port: 'http', protocol: 'TCP' },
          { port: 'grpc', protocol: 'TCP' },
        ],
      },
    ]);
    // Without the dependent, the same spec renders no policy at all.
    expect(Object.keys(render(hostWith(api), 'api')).filter((f) => f.endsWith('generated/networkpolicy.yaml'))).toEqual([]);
  });

  it('syncs the dependent in a later ArgoCD wave than what it depends on, transitively', () => {
    const db = specOf('db');
    const host = hostWith(db, specOf('api', { dependsOn: ['db'] }), specOf('web', { dependsOn: ['api', 'db'] }));
    const wave = (name: string) => parseDoc(render(host, name)[`platform/argocd/applications/dev/${name}.yaml`]).metadata.annotations['argocd.argoproj.io/sync-wave'];

    expect([wave('db'), wave('api'), wave('web')]).toEqual(['20', '21', '22']);
    expect(render(host, 'web')['platform/argocd/applications/dev/web.yaml']).toContain('# and after the apps it depends on (api, db), whose waves are lower\n');
  });

  it('on Compose, the dependent joins the default network of the dependency\'s project as external, and the dependency\'s services answer to their Kubernetes names', () => {
    const host = hostWith(api, web);
    const webDev = parseDoc(render(host, 'web')['applications/compose/environments/dev/web/compose.generated.yaml']);
    const apiDev = parseDoc(render(host, 'api')['applications/compose/environments/dev/api/compose.generated.yaml']);
    const apiProd = parseDoc(render(host, 'api')['applications/compose/environments/prod/api/compose.generated.yaml']);

    expect(webDev.services.web.networks).toEqual({ default: {}, 'app-api': {} });
    expect(webDev.networks).toEqual({ 'app-api': { name: 'api-dev_default', external: true, 'x-homelab-app': 'api' } });
    expect(apiDev.services.api.networks).toEqual({ default: { aliases: ['api.api-dev.svc', 'api.api-dev.svc.cluster.local'] } });
    expect(apiProd.services.api.networks).toEqual({ default: { aliases: ['api.api.svc', 'api.api.svc.cluster.local'] } });
  });

  it("joins both the dependency's network and the environment's shared one, in one list, when the app also needs a shared component", () => {
    // api is routed by Traefik (a host) and web serves metrics: each also joins homelab-<env> (app/steps/compose-networks.ts).
    const routedApi = { ...api, ingress: { host: 'api.home.example.org' } } as AppSpec;
    const scrapedWeb = specOf('web', { dependsOn: ['api'], ports: [{ name: 'http', port: 8080, http: true }], monitoring: { metrics: { port: 'http' } } });
    const host = hostWith(routedApi, scrapedWeb);
    const webDev = parseDoc(render(host, 'web')['applications/compose/environments/dev/web/compose.generated.yaml']);
    const apiDev = parseDoc(render(host, 'api')['applications/compose/environments/dev/api/compose.generated.yaml']);

    expect(webDev.services.web.networks).toEqual({ default: {}, 'homelab-dev': {}, 'app-api': {} });
    expect(webDev.networks).toEqual({
      'homelab-dev': { name: 'homelab-dev', external: true },
      'app-api': { name: 'api-dev_default', external: true, 'x-homelab-app': 'api' },
    });
    expect(apiDev.services.api.networks).toEqual({ default: { aliases: ['api.api-dev.svc', 'api.api-dev.svc.cluster.local'] }, 'homelab-dev': {} });
    expect(apiDev.networks).toEqual({ 'homelab-dev': { name: 'homelab-dev', external: true } });
  });

  it('renders an app no other app is linked to as before: no policy file, no networks, wave 20', () => {
    const files = render(hostWith(api, specOf('other', { description: 'mentions api in its text only' })), 'api');

    expect(Object.keys(files).some((f) => f.endsWith('generated/networkpolicy.yaml'))).toBe(false);
    expect(files['applications/compose/environments/dev/api/compose.generated.yaml']).not.toContain('networks');
    expect(parseDoc(files['platform/argocd/applications/dev/api.yaml']).metadata.annotations['argocd.argoproj.io/sync-wave']).toBe('20');
  });

  it('links a dependent only in the environments it runs in', () => {
    const devOnly = specOf('web', { dependsOn: ['api'], environments: { dev: {} } });
    const files = render(hostWith(api, devOnly), 'api');

    expect(files['applications/kubernetes/overlays/dev/api/generated/networkpolicy.yaml']).toContain('web-dev');
    expect(files['applications/kubernetes/overlays/prod/api/generated/networkpolicy.yaml']).toBeUndefined();
  });

  it.each<{ case: string; specs: AppSpec[]; rule: string; message: RegExp }>([
    {
      case: 'a name that is neither an app nor a component',
      specs: [specOf('web', { dependsOn: ['apii'] })],
      rule: 'deps/unknown-app',
      message: /^dependsOn "apii" is neither an app \(no applications\/specs\/apii\.yaml\) nor an infrastructure component .*; add the app with `npx nx g homelab:app apii`, .* or remove it from dependsOn$/,
    },
    {
      case: 'the app itself',
      specs: [specOf('web', { dependsOn: ['web'] })],
      rule: 'deps/cycle',
      message: /^dependsOn "web" names the app itself; remove it from dependsOn$/,
    },
    {
      case: 'a cycle of apps',
      specs: [specOf('api', { dependsOn: ['db'] }), specOf('db', { dependsOn: ['web'] }), web],
      rule: 'deps/cycle',
      message: /^dependsOn "api" makes a cycle of apps \(web -> api -> db -> web\); remove one of these dependencies$/,
    },
    {
      case: 'an app that does not run in an environment the dependent runs in',
      specs: [specOf('api', { environments: { dev: {} } }), web],
      rule: 'deps/app-environment',
      message: /^dependsOn "api": api does not run in prod, where web runs; add prod to the environments of applications\/specs\/api\.yaml, or list web's environments without it$/,
    },
  ])('refuses $case in one line, under its own rule', ({ specs, rule, message }) => {
    const found = problems(hostWith(...specs), 'web');

    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(new RegExp(`^${rule}: `));
    expect(found[0].slice(rule.length + 2)).toMatch(message);
  });

  describe("keeping the dependency's files in step with who depends on it", () => {
    const API_POLICY = 'applications/kubernetes/overlays/dev/api/generated/networkpolicy.yaml';

    it('nx sync renders the dependency again when a dependent appears, and sync:check reports it until then', () => {
      const host = hostWith(api, specOf('web'));
      syncAll(host);
      expect(host.read(API_POLICY)).toBeNull();

      writeSpec(host, web);

      expect(syncAll(host, true)).toEqual(expect.arrayContaining([API_POLICY, 'applications/compose/environments/dev/api/compose.generated.yaml']));
      syncAll(host);
      expect(host.read(API_POLICY)).toContain('web-dev');
      expect(syncAll(host, true)).toEqual([]);
    });

    it('nx g homelab:app --force renders again the apps the app depended on before and depends on now', () => {
      const host = hostWith(api, web);
      syncAll(host);
      host.write('applications/specs/web.yaml', host.read('applications/specs/web.yaml')!.replace(/dependsOn:\n\s+- api\n/, ''));
      expect(host.read('applications/specs/web.yaml')).not.toContain('dependsOn');

      const result = generateApp(host, { name: 'web', image: 'traefik/whoami:v1.10.4', port: 8080, force: true });

      expect(result.deleted).toContain(API_POLICY);
      expect(host.read(API_POLICY)).toBeNull();
      expect(host.read('applications/compose/environments/dev/api/compose.generated.yaml')).not.toContain('aliases');
      expect(syncAll(host, true)).toEqual([]);
    });

    it('nx g homelab:remove refuses an app another app depends on, and renders the dependency again when the dependent goes', () => {
      const host = hostWith(api, web);
      syncAll(host);

      expect(() => generateRemove(host, { name: 'api' }, null)).toThrow(/^app api is used by app web \(dependsOn\); remove api from their dependsOn first, then remove it$/);
      generateRemove(host, { name: 'web' }, null);
      expect(host.read(API_POLICY)).toBeNull();
      expect(syncAll(host, true)).toEqual([]);
    });
  });
});

describe('readAppLinks: who depends on an app', () => {
  it('finds each spec whose dependsOn names the app, not one that names it inside a longer name or elsewhere', () => {
    const host = hostWith(
      api,
      web,
      specOf('api-gateway', { dependsOn: ['web'] }),
      specOf('worker', { dependsOn: ['web', 'api'] }),
      // Names api only in its description: its text is parsed, its dependsOn does not hold api.
      { ...specOf('docs'), description: 'Docs of the api' } as AppSpec,
    );
    const workspace = readWorkspace(host);
    const linksOf = (name: string) => readAppLinks(host, workspace, parseDoc(host.read(`applications/specs/${name}.yaml`)!) as AppSpec);
    expect(linksOf('api').dependents.map((d) => d.name)).toEqual(['web', 'worker']);
    expect(linksOf('web').dependents.map((d) => d.name)).toEqual(['api-gateway', 'worker']);
    expect(linksOf('api-gateway').dependents).toEqual([]);
    expect(linksOf('docs').dependents).toEqual([]);
  });

  it("finds the same dependents through a validate run's host, which indexes every spec's words once instead of reading every spec for every app", () => {
    const specs = [api, web, specOf('api-gateway', { dependsOn: ['web'] }), specOf('worker', { dependsOn: ['web', 'api'] }), { ...specOf('docs'), description: 'Docs of the api and web-ui' } as AppSpec];
    const host = hostWith(...specs);
    let reads = 0;
    const counted = readOnceHost({ ...host, read: (file) => (reads++, host.read(file)) }, () => true);
    const workspace = readWorkspace(host);
    const linksOf = (h: typeof host, name: string) => readAppLinks(h, workspace, parseDoc(host.read(`applications/specs/${name}.yaml`)!) as AppSpec).dependents.map((d) => d.name);
    for (const spec of specs) expect(linksOf(counted, spec.name), spec.name).toEqual(linksOf(host, spec.name));
    expect(counted.memo?.has('app-links:mentions')).toBe(true);
    // Each spec read once for the whole run (and homelab.yaml not at all here).
    expect(reads).toBe(specs.length);
  });
});
