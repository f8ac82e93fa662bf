import YAML from 'yaml';
import { listAppNames, readAppSpec, readWorkspace } from '../app/plan';
import { listComponentNames, readComponentSpec } from '../component/spec';
import { InputError, show } from '../errors';
import type { FileHost } from '../host';
import { formatImageRef, type ImageRef, splitImageRef } from '../spec/image';
import type { AppSpec, ScanSeverity, WorkspaceConfig } from '../spec/types';
import type { ComponentSpec } from '../component/types';
import { PLATFORM_PROJECT } from '../validate/classify';

/** The severities of the image scan, lowest first: the scanner's `severity-cutoff` values (workspace.schema.json `ci.scan.severity`). */
export const SCAN_SEVERITIES: readonly ScanSeverity[] = ['negligible', 'low', 'medium', 'high', 'critical'];

/** The severity the scan fails on when homelab.yaml sets none: what a homelab can act on without drowning in low findings. */
export const DEFAULT_SCAN_SEVERITY: ScanSeverity = 'high';

/** The lowest severity of a known vulnerability that fails the users' CI image scan: homelab.yaml `ci.scan.severity`, or the default. */
export function scanSeverity(workspace: WorkspaceConfig): ScanSeverity {
  return workspace.ci?.scan?.severity ?? DEFAULT_SCAN_SEVERITY;
}

/** One image pinned in a project's spec, and where. */
export interface PinnedImage {
  /** The reference as Kubernetes and Compose take it (`repo:tag`, `repo@sha256:…`, `repo:tag@sha256:…`). */
  image: string;
  /** The spec field that pins it, e.g. `services.web.image` or `environments.prod.services.db.image`. */
  field: string;
}

/**
 * Every image an app spec pins (docs/spec.md): the shorthand's image, each service's, each init
 * container's and sidecar's that names its own, and each environment's tag or digest of a service
 * (with that service's repository). An init container or sidecar without an image runs its service's,
 * already listed.
 */
export function appImages(spec: AppSpec): PinnedImage[] {
  const out: PinnedImage[] = [];
  const add = (image: ImageRef, field: string) => out.push({ image: formatImageRef(image), field });
  const repositories = new Map<string, string>();
  if (spec.services === undefined) {
    add(spec.image, 'image');
    repositories.set(spec.name, spec.image.repository);
  } else {
    for (const [name, service] of Object.entries(spec.services)) {
      add(service.image, `services.${name}.image`);
      repositories.set(name, service.image.repository);
      for (const [i, init] of (service.initContainers ?? []).entries()) if (init.image) add(init.image, `services.${name}.initContainers[${i}].image`);
      for (const [sidecar, container] of Object.entries(service.sidecars ?? {})) if (container.image) add(container.image, `services.${name}.sidecars.${sidecar}.image`);
    }
  }
  for (const [env, override] of Object.entries(spec.environments ?? {})) {
    for (const [name, service] of Object.entries(override.services ?? {})) {
      const repository = repositories.get(name);
      // A service the spec does not have is the spec's own problem (validate names it), not an image.
      if (service.image && repository) add({ repository, ...service.image }, `environments.${env}.services.${name}.image`);
    }
  }
  return out;
}

/**
 * Every image a component spec pins: each chart's values (any `image:` that is a reference, as
 * Renovate reads them: docs/renovate.md), `compose.images` and `settings.imageName`. The images a
 * chart uses by default, without a value in the spec, are the chart's and not listed.
 */
export function componentImages(spec: ComponentSpec): PinnedImage[] {
  const out: PinnedImage[] = [];
  for (const [i, chart] of spec.kubernetes.charts.entries()) {
    YAML.visit(new YAML.Document(chart.values ?? {}), {
      Pair: (_key, pair, path) => {
        const key = YAML.isScalar(pair.key) ? pair.key.value : undefined;
        if (key !== 'image' || !YAML.isScalar(pair.value) || typeof pair.value.value !== 'string') return;
        const at = path.filter((node): node is YAML.Pair => YAML.isPair(node)).map((p) => String((p.key as YAML.Scalar).value));
        out.push({ image: pair.value.value, field: `kubernetes.charts[${i}].values.${[...at, 'image'].join('.')}` });
      },
    });
  }
  for (const [name, image] of Object.entries(spec.compose?.images ?? {})) out.push({ image, field: `compose.images.${name}` });
  if (spec.settings?.imageName) out.push({ image: spec.settings.imageName, field: 'settings.imageName' });
  for (const pinned of out) splitImageRef(pinned.image, `${spec.name}: ${pinned.field}`);
  return out;
}

/** The images homelab.yaml pins (`compose.scheduler.image`, `compose.volumeOwner.image`, `compose.backup.image`): the platform project's. */
export function workspaceImages(workspace: WorkspaceConfig): PinnedImage[] {
  const compose = workspace.compose ?? {};
  return (['scheduler', 'volumeOwner', 'backup'] as const).flatMap((key) => {
    const image = compose[key]?.image;
    return image ? [{ image, field: `compose.${key}.image` }] : [];
  });
}

/** The projects of the workspace that pin images: every app, every component and the platform (homelab.yaml). */
export function imageProjects(host: FileHost): string[] {
  return [...listAppNames(host), ...listComponentNames(host), PLATFORM_PROJECT];
}

/**
 * The images the given projects pin (every project of the workspace when `projects` is
 * undefined), each once, sorted, with the projects that pin it. A name that is no app, component
 * or `homelab-platform` of the workspace is refused, naming it and the projects there are.
 */
export function pinnedImages(host: FileHost, projects?: readonly string[]): { image: string; projects: string[] }[] {
  const apps = new Set(listAppNames(host));
  const components = new Set<string>(listComponentNames(host));
  const names = projects ?? imageProjects(host);
  for (const name of names) {
    if (!apps.has(name) && !components.has(name) && name !== PLATFORM_PROJECT) {
      throw new InputError(`--projects ${show(name)}: no app, component or ${PLATFORM_PROJECT} of that name in this workspace; name projects of \`npx nx show projects --withTarget validate\``);
    }
  }
  const found = new Map<string, Set<string>>();
  for (const name of new Set(names)) {
    const pinned = apps.has(name) ? appImages(readAppSpec(host, name)) : components.has(name) ? componentImages(readComponentSpec(host, name)) : workspaceImages(readWorkspace(host));
    for (const { image } of pinned) found.set(image, (found.get(image) ?? new Set()).add(name));
  }
  return [...found.keys()].sort().map((image) => ({ image, projects: [...found.get(image)!].sort() }));
}
