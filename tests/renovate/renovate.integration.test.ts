import * as fs from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { ARGOCD_CRDS } from '../../tools/homelab/src/component/catalog';
import { generateInfra } from '../../tools/homelab/src/component/generate';
import { COMPONENT_NAMES } from '../../tools/homelab/src/component/types';
import { diskHost } from '../../tools/homelab/src/host';
import { generateInit } from '../../tools/homelab/src/platform/init';
import { normalizeRenovate, RENOVATE_FILE, RENOVATE_IGNORE_PATHS, renderRenovate } from '../../tools/homelab/src/platform/renovate';
import { splitImageRef } from '../../tools/homelab/src/spec/image';
import { syncAll } from '../../tools/homelab/src/workspace/sync';
import { applyRules, type ExtractedDep, extractDependencies, type Extracted, requireRenovate, RENOVATE_VERSION, runRenovate } from '../support/renovate';
import { runOk } from '../support/tools';
import { copyWorkspace, makeTempDir, REPO_ROOT, removeDir, workspaceYamlWith } from '../support/workspace';

/**
 * The real Renovate (the npm package, pinned in scripts/renovate/versions.env, through npx on
 * Node 24) over a homelab made from scratch: `nx g homelab:init`'s renovate.json5, every catalog
 * component (the backup component on k8up, whose CRDs come from a Git tag), two shorthand apps
 * (one pinned by digest), a stack of several services with an init container, a sidecar and
 * per-environment tags and digests, images pinned in homelab.yaml, ArgoCD's install added to the
 * bootstrap as an owner would, and the tool's own package.json, workflow and scripts/. Committed
 * to a local git repository, Renovate runs `--platform=local --dry-run=extract`: it extracts and
 * stops, so it looks nothing up. What it must find comes from the files the test wrote, read here
 * with the project's own image parser, never from a copy of Renovate's output.
 */
const renovate = requireRenovate();

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const DIGEST_C = `sha256:${'c'.repeat(64)}`;
const SCHEDULER_IMAGE = `docker:27.5.1-cli@${DIGEST_C}`;

/** A stack of several services, as an owner writes one: every place an app spec pins an image. */
const WIKI = `name: wiki
services:
  web:
    image: { repository: example/wiki, tag: 2.5.1 }
    ports: [{ name: http, port: 3000, http: true }]
    health: { http: { path: /healthz }, probe: outside }
    initContainers:
      - name: wait
        image: { repository: busybox, tag: 1.37.0 }
        command: [sh, -c, "true"]
    sidecars:
      exporter:
        image: { repository: ghcr.io/example/wiki-exporter, tag: 0.4.2 }
        ports: [{ name: metrics, port: 9205 }]
  db:
    image:
      repository: postgres
      tag: 16.9-bookworm
      digest: ${DIGEST_A}
    ports: [{ name: postgres, port: 5432 }]
    health: { command: [pg_isready] }
    security: { user: { uid: 999, gid: 999 } }
environments:
  dev:
    services:
      web: { image: { tag: 2.6.0 } }
  prod:
    services:
      web: { image: { tag: 2.4.3 } }
      db: { image: { digest: ${DIGEST_B} } }
`;

/** ArgoCD's install, added to the bootstrap kustomization (the owner's file) as docs/renovate.md shows. */
const ARGOCD_INSTALL = `github.com/argoproj/argo-cd//manifests/cluster-install?ref=${ARGOCD_CRDS.version}`;

let dir: string;
let extracted: Extracted;
let records: Record<string, any>[];

const read = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
const git = (...args: string[]) => runOk('git', ['-c', 'user.email=test@homelab.invalid', '-c', 'user.name=homelab tests', ...args], { cwd: dir });

/** The fields of a dependency the tests compare, without the undefined ones (and packageName where Renovate copied depName). */
function dep(d: ExtractedDep): ExtractedDep {
  const out: ExtractedDep = {};
  for (const key of ['datasource', 'depType', 'depName', 'packageName', 'currentValue', 'currentDigest', 'registryUrls'] as const) {
    if (d[key] !== undefined && !(key === 'packageName' && d.packageName === d.depName)) (out as Record<string, unknown>)[key] = d[key];
  }
  return out;
}
const sorted = (deps: ExtractedDep[]) => deps.map(dep).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** What Renovate extracted from one file, by its manager. */
function depsOf(manager: string, file: string): ExtractedDep[] {
  const found = (extracted[manager] ?? []).filter((p) => p.packageFile === file);
  expect(found, `${manager} ${file}`).toHaveLength(1);
  return found[0].deps;
}

/** A docker dependency of an image reference (`repo[:tag][@digest]`), as the spec holds it. */
function imageDep(ref: string | { repository: string; tag?: string; digest?: string }, depType: string): ExtractedDep {
  const image = typeof ref === 'string' ? splitImageRef(ref, 'test') : ref;
  return dep({ datasource: 'docker', depType, depName: image.repository, currentValue: image.tag, currentDigest: image.digest });
}

/** Every image an app spec pins, read from the spec: the places docs/spec.md lists. */
function expectedAppDeps(spec: any): ExtractedDep[] {
  const out: ExtractedDep[] = [];
  if (spec.image) out.push(imageDep(spec.image, 'image'));
  for (const service of Object.values<any>(spec.services ?? {})) {
    if (service.image) out.push(imageDep(service.image, 'image'));
    for (const init of service.initContainers ?? []) if (init.image) out.push(imageDep(init.image, 'image'));
    for (const sidecar of Object.values<any>(service.sidecars ?? {})) if (sidecar.image) out.push(imageDep(sidecar.image, 'image'));
  }
  for (const [env, override] of Object.entries<any>(spec.environments ?? {})) {
    for (const [name, service] of Object.entries<any>(override.services ?? {})) {
      if (service.image) out.push(imageDep({ repository: spec.services[name].image.repository, ...service.image }, `image (${env})`));
    }
  }
  return out;
}

/** Every chart, CRD tag and image a component spec pins, read from the spec. */
function expectedComponentDeps(spec: any): ExtractedDep[] {
  const out: ExtractedDep[] = [];
  for (const chart of spec.kubernetes.charts) {
    out.push(dep({ datasource: 'helm', depType: 'chart', depName: chart.name, currentValue: chart.version, registryUrls: [new URL(chart.repoURL).toString()] }));
    const images: string[] = [];
    YAML.visit(new YAML.Document(chart.values ?? {}), { Pair: (_k, pair: any) => void (pair.key?.value === 'image' && typeof pair.value?.value === 'string' && images.push(pair.value.value)) });
    out.push(...images.map((image) => imageDep(image, 'chart values image')));
  }
  const crds = spec.kubernetes.crds;
  if (crds) out.push(dep({ datasource: 'git-tags', depType: 'crds', depName: crds.repoURL, currentValue: crds.targetRevision }));
  for (const image of Object.values<string>(spec.compose?.images ?? {})) out.push(imageDep(image, 'image'));
  if (spec.settings?.imageName) out.push(imageDep(spec.settings.imageName, 'image'));
  return out;
}

/** `NAME=value` (shell, env file) or `NAME: value` (YAML) in a file of the repository. */
function assigned(file: string, name: string): string {
  const value = new RegExp(`^\\s*${name}\\s*[:=]\\s*(\\S+)\\s*$`, 'm').exec(read(file))?.[1];
  if (!value) throw new Error(`${file}: no ${name} assignment; the test no longer matches the file`);
  return value;
}

describe.skipIf(renovate.skip)(`Renovate ${RENOVATE_VERSION} over a homelab made from scratch`, () => {
  beforeAll(() => {
    dir = makeTempDir('renovate');
    copyWorkspace(
      dir,
      workspaceYamlWith((config) => {
        config.backup.provider = 'k8up';
        config.compose = { scheduler: { image: SCHEDULER_IMAGE } };
      }),
    );
    // The tool's files Renovate keeps current besides package.json: the workflow and the engine pins.
    fs.mkdirSync(path.join(dir, '.github/workflows'), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, '.github/workflows/ci.yml'), path.join(dir, '.github/workflows/ci.yml'));
    fs.cpSync(path.join(REPO_ROOT, 'scripts'), path.join(dir, 'scripts'), { recursive: true });

    const host = diskHost(dir);
    generateInit(host, {});
    for (const component of COMPONENT_NAMES) generateInfra(host, { component, email: 'admin@example.org' });
    generateApp(host, { name: 'whoami', image: 'traefik/whoami:v1.10.4', port: 80 });
    generateApp(host, { name: 'notes', image: `ghcr.io/example/notes:2.1.0@${DIGEST_A}`, port: 8080 });
    fs.writeFileSync(path.join(dir, 'applications/specs/wiki.yaml'), WIKI);
    expect(syncAll(host)).not.toEqual([]);
    const bootstrap = 'platform/argocd/bootstrap/kustomization.yaml';
    fs.writeFileSync(path.join(dir, bootstrap), read(bootstrap).replace('resources:\n', `resources:\n  - ${ARGOCD_INSTALL}\n`));

    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-q', '-m', 'a homelab made from scratch');
    ({ extracted, records } = extractDependencies(dir, makeTempDir('renovate-base')));
    // The first npx run downloads Node 24 and Renovate (scripts/renovate/prefetch.sh warms the cache).
  }, 900_000);
  afterAll(() => removeDir(dir));

  it('has init write renovate.json5, which the config validator accepts in strict mode', () => {
    expect(fs.existsSync(path.join(dir, RENOVATE_FILE))).toBe(true);

    const result = runRenovate('renovate-config-validator', ['--strict'], dir);

    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`Validating ${RENOVATE_FILE}`);
    expect(result.stdout).toContain('Config validated successfully');
  });

  it('has the validator refuse a configuration with a misspelled option (the check can fail)', () => {
    const broken = makeTempDir('renovate-broken');
    try {
      fs.writeFileSync(path.join(broken, RENOVATE_FILE), read(RENOVATE_FILE).replace('"ignorePaths"', '"ignorePath"'));

      const result = runRenovate('renovate-config-validator', ['--strict'], broken);

      expect(result.status).not.toBe(0);
      expect(result.stdout + result.stderr).toContain('ignorePath');
    } finally {
      removeDir(broken);
    }
  });

  it('extracts every image of every app spec, each once: the shorthand, each service, init container and sidecar, and each environment\'s tag or digest', () => {
    const specs = ['notes', 'whoami', 'wiki'].map((name) => `applications/specs/${name}.yaml`);
    expect(extracted.jsonata.map((p) => p.packageFile).filter((f) => f.startsWith('applications/'))).toEqual(specs);

    for (const file of specs) expect(sorted(depsOf('jsonata', file)), file).toEqual(sorted(expectedAppDeps(YAML.parse(read(file)))));
    // The stack's own expectations, spelled out: four images, and three pins of its environments.
    expect(depsOf('jsonata', 'applications/specs/wiki.yaml')).toHaveLength(7);
    expect(sorted(depsOf('jsonata', 'applications/specs/wiki.yaml')).filter((d) => d.depType !== 'image')).toEqual([
      { datasource: 'docker', depType: 'image (dev)', depName: 'example/wiki', currentValue: '2.6.0' },
      { datasource: 'docker', depType: 'image (prod)', depName: 'example/wiki', currentValue: '2.4.3' },
      { datasource: 'docker', depType: 'image (prod)', depName: 'postgres', currentDigest: DIGEST_B },
    ]);
  });

  it('extracts every chart with its Helm repository, every CRD tag and every image of every catalog component, each once', () => {
    const specs = COMPONENT_NAMES.map((name) => `infrastructure/specs/${name}.yaml`).sort();
    expect(extracted.jsonata.map((p) => p.packageFile).filter((f) => f.startsWith('infrastructure/')).sort()).toEqual(specs);

    for (const file of specs) expect(sorted(depsOf('jsonata', file)), file).toEqual(sorted(expectedComponentDeps(YAML.parse(read(file)))));
    const backup = depsOf('jsonata', 'infrastructure/specs/backup.yaml').map(dep);
    expect(backup).toContainEqual(expect.objectContaining({ datasource: 'git-tags', depType: 'crds', depName: 'https://github.com/k8up-io/k8up.git' }));
    const all = extracted.jsonata.filter((p) => p.packageFile.startsWith('infrastructure/')).flatMap((p) => p.deps);
    expect(all.filter((d) => d.datasource === 'helm').length).toBe(COMPONENT_NAMES.length + 1);
  });

  it('extracts the images homelab.yaml pins', () => {
    expect(depsOf('jsonata', 'homelab.yaml').map(dep)).toEqual([imageDep(SCHEDULER_IMAGE, 'image')]);
  });

  it('extracts the engine pins of the project\'s setup and CI, with the Go module datasource where that is how they are built', () => {
    const regex = (extracted.regex ?? []).flatMap((p) => p.deps.map((d) => ({ file: p.packageFile, ...dep(d) })));

    expect(regex.sort((a, b) => `${a.file} ${a.datasource} ${a.depName}`.localeCompare(`${b.file} ${b.datasource} ${b.depName}`))).toEqual([
      { file: '.github/workflows/ci.yml', datasource: 'docker', depName: 'kindest/node', currentValue: splitImageRef(assigned('.github/workflows/ci.yml', 'KIND_NODE_IMAGE'), 'ci.yml').tag },
      { file: '.github/workflows/ci.yml', datasource: 'go', depName: 'sigs.k8s.io/kind', currentValue: assigned('.github/workflows/ci.yml', 'KIND_VERSION') },
      { file: 'scripts/control-plane/versions.env', datasource: 'go', depName: 'k8s.io/kubernetes', currentValue: assigned('scripts/control-plane/versions.env', 'KUBERNETES_VERSION') },
      { file: 'scripts/control-plane/versions.env', datasource: 'go', depName: 'sigs.k8s.io/kwok', currentValue: assigned('scripts/control-plane/versions.env', 'KWOK_VERSION') },
      { file: 'scripts/kubeconform/build.sh', datasource: 'go', depName: 'github.com/yannh/kubeconform', currentValue: assigned('scripts/kubeconform/build.sh', 'KUBECONFORM_VERSION') },
      { file: 'scripts/renovate/versions.env', datasource: 'npm', depName: 'renovate', currentValue: RENOVATE_VERSION },
    ]);
  });

  it('keeps Renovate\'s own npm and github-actions managers: every devDependency and every action of the workflow', () => {
    const pkg = JSON.parse(read('package.json'));
    const npm = depsOf('npm', 'package.json').filter((d) => d.depType === 'devDependencies');
    expect(Object.fromEntries(npm.map((d) => [d.depName, d.currentValue]))).toEqual(pkg.devDependencies);
    expect(new Set(npm.map((d) => d.datasource))).toEqual(new Set(['npm']));

    const actions = depsOf('github-actions', '.github/workflows/ci.yml').filter((d) => d.datasource === 'github-tags');
    // An action in a folder of its repository (github/codeql-action/upload-sarif) is its repository's dependency.
    const uses = [...read('.github/workflows/ci.yml').matchAll(/uses: ([\w-]+\/[\w-]+)(?:\/\S*)?@(\S+)/g)].map(([, name, version]) => `${name}@${version}`);
    expect(actions.map((d) => `${d.depName}@${d.currentValue}`).sort()).toEqual(uses.sort());
    // The versions the setup actions take (`with:`) are its too, so no annotation claims them twice.
    const withs = depsOf('github-actions', '.github/workflows/ci.yml').filter((d) => d.depType === 'uses-with');
    expect(withs.map((d) => `${d.depName} ${d.currentValue}`)).toEqual(
      expect.arrayContaining([`go ${assigned('.github/workflows/ci.yml', 'go-version')}`, `kubectl ${assigned('.github/workflows/ci.yml', 'version')}`]),
    );
  });

  it('extracts the ArgoCD bootstrap\'s pin: the install the owner added to the bootstrap kustomization', () => {
    expect(depsOf('kustomize', 'platform/argocd/bootstrap/kustomization.yaml').map(dep)).toEqual([
      expect.objectContaining({ datasource: 'github-tags', depName: 'argoproj/argo-cd', currentValue: ARGOCD_CRDS.version }),
    ]);
  });

  it('extracts nothing from the trees rendered from the specs, though they hold the same images and charts', () => {
    // The generated trees do pin what the specs pin: Renovate's compose and kustomize managers would find them.
    expect(read('applications/compose/base/whoami/compose.yaml')).toContain('traefik/whoami:v1.10.4');
    expect(read('platform/argocd/applications/prod/postgres.yaml')).toContain('cloudnative-pg');
    const generated = RENOVATE_IGNORE_PATHS.map((glob) => glob.replace(/\*\*.*$/, '')).filter((prefix) => prefix !== '');

    const files = Object.values(extracted).flatMap((packageFiles) => packageFiles.map((p) => p.packageFile));

    expect(files.filter((file) => generated.some((prefix) => file.startsWith(prefix)))).toEqual([]);
    expect(files.filter((file) => file.includes('node_modules'))).toEqual([]);
  });

  /** Updates of one kind for a pin of each kind, as Renovate's lookup would hand them to its rules. */
  const UPDATES = [
    { manager: 'custom.jsonata', packageFile: 'applications/specs/wiki.yaml', depType: 'image', depName: 'example/wiki', updateType: 'patch' },
    { manager: 'custom.jsonata', packageFile: 'applications/specs/wiki.yaml', depType: 'image', depName: 'postgres', updateType: 'digest' },
    { manager: 'custom.jsonata', packageFile: 'applications/specs/wiki.yaml', depType: 'image (prod)', depName: 'example/wiki', updateType: 'patch' },
    { manager: 'custom.jsonata', packageFile: 'applications/specs/whoami.yaml', depType: 'image', depName: 'traefik/whoami', updateType: 'minor' },
    { manager: 'custom.jsonata', packageFile: 'infrastructure/specs/postgres.yaml', depType: 'chart', depName: 'cloudnative-pg', updateType: 'patch' },
    { manager: 'custom.jsonata', packageFile: 'infrastructure/specs/postgres.yaml', depType: 'image', depName: 'postgres', updateType: 'major' },
    { manager: 'npm', packageFile: 'package.json', depType: 'devDependencies', depName: 'nx', updateType: 'patch' },
    { manager: 'custom.regex', packageFile: 'scripts/control-plane/versions.env', depName: 'k8s.io/kubernetes', updateType: 'patch' },
    { manager: 'kustomize', packageFile: 'platform/argocd/bootstrap/kustomization.yaml', depName: 'argoproj/argo-cd', updateType: 'minor' },
  ];
  const GROUPS = ['app wiki image', 'app wiki image', 'app wiki image (prod)', 'app whoami image', 'component postgres', 'component postgres', 'homelab toolchain', 'homelab toolchain', 'ArgoCD bootstrap'];

  it('groups updates per app, per environment pin, per component and for the toolchain, and merges none by itself without --automerge (Renovate\'s own rule engine)', () => {
    const outcomes = applyRules(path.join(dir, RENOVATE_FILE), UPDATES);

    expect(outcomes.map((o) => o.groupName)).toEqual(GROUPS);
    expect(outcomes.filter((o) => o.automerge)).toEqual([]);
    expect(outcomes.map((o) => o.labels.includes('major'))).toEqual(UPDATES.map((u) => u.updateType === 'major'));
  });

  it('with --automerge merges patch and digest updates by itself, never an environment\'s pin, a minor or a major', () => {
    const file = path.join(makeTempDir('renovate-automerge'), RENOVATE_FILE);
    try {
      fs.writeFileSync(file, renderRenovate(normalizeRenovate({ automerge: true })).content);

      const outcomes = applyRules(file, UPDATES);

      expect(outcomes.map((o) => o.groupName)).toEqual(GROUPS);
      expect(outcomes.map((o) => o.automerge)).toEqual(UPDATES.map((u) => ['patch', 'digest'].includes(u.updateType) && u.depType !== 'image (prod)'));
    } finally {
      removeDir(path.dirname(file));
    }
  });

  it('looks nothing up: no HTTP request, no release fetched', () => {
    expect(records.find((r) => r.msg === 'HTTP statistics')?.requests).toBe(0);
    expect(records.find((r) => r.msg === 'getReleases statistics summary')?.stats.count).toBe(0);
  });
});
