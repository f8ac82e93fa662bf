import type { BackupProvider } from '../spec/types';

/** The components `nx g homelab:infra` knows (tools/homelab/schemas/infra.schema.json). */
export const COMPONENT_NAMES = ['ingress', 'cert-manager', 'external-secrets', 'monitoring', 'logging', 'backup', 'postgres'] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

export type Platform = 'kubernetes' | 'compose';

/** A Helm chart ArgoCD installs, pinned to one version. */
export interface ChartSpec {
  repoURL: string;
  name: string;
  version: string;
  releaseName?: string;
  values?: Record<string, unknown>;
}

/** A component spec as written in infrastructure/specs/<name>.yaml. */
export interface ComponentSpec {
  name: ComponentName;
  description?: string;
  platforms?: Platform[];
  namespace?: string;
  kubernetes: {
    charts: ChartSpec[];
    crds?: { repoURL: string; path: string; targetRevision: string };
  };
  compose?: { images: Record<string, string>; memory?: Record<string, string> };
  settings?: ComponentSettings;
}

export interface ComponentSettings {
  acme?: { email: string; staging?: boolean };
  provider?: BackupProvider;
  storage?: string;
  /** PostgreSQL or Traefik instances: one count for every install, or per installing environment (component/steps/instances.ts). */
  instances?: number | Record<string, number>;
  imageName?: string;
  retentionDays?: number;
}
