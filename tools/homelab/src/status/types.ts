/**
 * What `homelab status` reports: one row per project (app or infrastructure component) and
 * environment, read from what deploys leave on the platform (container labels, object
 * annotations), so any machine with access to the Docker host or the cluster can read it.
 *
 * The Compose reader (`compose.ts`), the Kubernetes reader (`kubernetes.ts`), the table and
 * JSON output (`format.ts`) and the HTML page (`html.ts`) all meet here. `--format json`
 * prints a `StatusReport` as it is: add fields, never rename or remove one.
 */

export type StatusPlatform = 'compose' | 'kubernetes';

/**
 * A service's or a row's health:
 *   healthy       running, and its health check (where it has one) passes
 *   starting      running, its health check has not passed yet (within its start period)
 *   unhealthy     running, its health check fails; or restarting; or a pod not ready
 *   stopped       deployed, not running (exited, or scaled to zero by hand)
 *   not-deployed  nothing of the project runs in the environment
 *   unknown       the platform could not be asked (the reason is in `problems`)
 */
export type Health = 'healthy' | 'starting' | 'unhealthy' | 'stopped' | 'not-deployed' | 'unknown';

export interface ServiceStatus {
  /** The Compose service, or the Kubernetes workload (`Deployment/web`, `StatefulSet/db`, `CronJob/backup`). */
  name: string;
  /** The image the spec (what git renders) wants for it. */
  wantedImage: string | null;
  /** The image it runs, as the platform reports it; null when it does not run. */
  runningImage: string | null;
  health: Health;
  /** Platform words: `running`, `exited (1)`, `restarting`, `2/3 ready`, … */
  state: string;
  restarts?: number;
}

/** One way what runs differs from what git renders. Never carries a secret value. */
export interface Drift {
  service?: string;
  /** What differs, in a word or two: `image`, `env FOO`, `config`, `replicas`, `missing service`, `extra service`, … */
  what: string;
  /** What git renders (secret values shown as `***`). */
  wanted: string;
  /** What runs (secret values shown as `***`). */
  running: string;
}

export interface LastDeploy {
  /** ISO 8601. */
  at: string;
  /** The commit the deploy rendered from; null when the workspace was not a git checkout or had uncommitted changes to the project. */
  commit: string | null;
  /** True when the deploy ran with uncommitted changes to the project's files. */
  dirty?: boolean;
}

export interface LastBackup {
  /** ISO 8601 of the last successful backup; null when none has succeeded yet. */
  at: string | null;
  /** The spec's backup schedule (cron). */
  schedule: string;
  /**
   * False when `at` is older than twice the longest gap of the schedule, or when no backup has
   * succeeded within that time of the backup's creation (its movers' containers, its
   * ReplicationSource or dump CronJob): a backup just deployed is given that long to run once.
   */
  healthy: boolean;
}

export interface StatusRow {
  project: string;
  layer: 'applications' | 'infrastructure';
  environment: string;
  platform: StatusPlatform;
  deployed: boolean;
  /** The spec's version of the project: the main service's image tag (or digest), as git renders it. */
  wantedVersion: string | null;
  /** The version running (the same reading of the running main service's image); null when not deployed. */
  runningVersion: string | null;
  health: Health;
  services: ServiceStatus[];
  /** Empty when what runs is what git renders. */
  drift: Drift[];
  lastDeploy: LastDeploy | null;
  /** Null when the project has no backup. */
  lastBackup: LastBackup | null;
  /** Where ArgoCD manages the environment: the Application's sync and health status. */
  argocd?: { application: string; sync: string; health: string } | null;
  /** Why the row is not ok, one line each (empty when ok). */
  problems: string[];
  /**
   * True when the row is healthy and in step: deployed, healthy, no drift, backup not stale,
   * ArgoCD (where it manages the environment) Synced and Healthy; or not deployed and
   * `--require-deployed` was not given.
   */
  ok: boolean;
}

export interface StatusReport {
  /** ISO 8601: when the report was read. */
  generatedAt: string;
  /** The workspace's HEAD commit, what "wanted" renders from; null outside git. */
  commit: string | null;
  /** The environments reported, in homelab.yaml's order. */
  environments: string[];
  /** Projects in name order, then environments in homelab.yaml's order. */
  rows: StatusRow[];
  /** Every row ok: `homelab status` exits 0 when true, 1 when false. */
  ok: boolean;
}
