/**
 * The contract between the two halves of `nx g homelab:import`:
 *
 * - `compose/` reads what a user has (a Compose file, the files it includes or extends, its `.env`
 *   and env_files) into a {@link ComposeSource}: the project as `docker compose config --format json`
 *   resolves it (anchors and `<<:` merges expanded, `include:` and `extends` applied, `${VAR}`
 *   interpolated, short syntax written in its long form), with what the import needs besides: where
 *   each environment value came from, so that one `${VAR}` used by several services becomes one
 *   secret key and no value is kept that should not be.
 * - `map/` turns a {@link ComposeSource} into an app spec, the secret values for the local secrets
 *   file, and the lines of the import's report.
 *
 * Field names and value shapes are those of Compose's canonical JSON (compose-spec), so that a test
 * can hold the reader to the real `docker compose config`. Nothing in here is written to git as is:
 * it holds secret values.
 */

/** A resolved Compose project. */
export interface ComposeSource {
  /** The project name Compose would use (`name:`, else the source folder's name, normalized as Compose does). */
  name: string;
  /** The folder the Compose file is in: relative bind sources are resolved against it. */
  directory: string;
  /** Every file read, relative to `directory` (the Compose file first, then includes, extends, env files). */
  files: string[];
  services: Record<string, ComposeService>;
  volumes: Record<string, ComposeVolume>;
  networks: Record<string, ComposeNetwork>;
  configs: Record<string, ComposeFileObject>;
  secrets: Record<string, ComposeFileObject>;
  /** The variables the files interpolate, each with its value and where that came from. */
  variables: Record<string, ComposeVariable>;
  /** What the reader met and set aside, each with its source path (`version`, `services.web.x-foo`). */
  ignored: { path: string; reason: string }[];
}

export interface ComposeVariable {
  /** Undefined when the variable is unset and the file gave no default. */
  value?: string;
  /** `.env` (or `--env-file`), the process environment, or the default written in the file (`${VAR:-d}`). */
  source: 'env-file' | 'environment' | 'default' | 'unset';
}

/** One service, in Compose's canonical long form. Keys Compose accepts that the model has no field for are in `other`. */
export interface ComposeService {
  image?: string;
  /** Present when the service has `build:`; its value as written (after interpolation). */
  build?: unknown;
  /** Split into words as Compose does for the string form (`sh -c "echo hi"` → `[sh, -c, echo hi]`). */
  command?: string[];
  entrypoint?: string[];
  working_dir?: string;
  user?: string;
  /** `environment:` and every `env_file:` merged in Compose's precedence; a key declared without a value and unset has value `null`. */
  environment: Record<string, ComposeEnvValue>;
  ports: ComposePort[];
  expose: string[];
  volumes: ComposeMount[];
  /** Service-level `tmpfs:` entries as written (`/run`, `/tmp:size=64m`). */
  tmpfs: string[];
  depends_on: Record<string, { condition: 'service_started' | 'service_healthy' | 'service_completed_successfully'; required: boolean; restart?: boolean }>;
  healthcheck?: { test?: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string; start_interval?: string; disable?: boolean };
  restart?: string;
  network_mode?: string;
  /** The networks the service joins, by name (Compose's `default` when it names none and has no network_mode). */
  networks: Record<string, { aliases?: string[]; ipv4_address?: string } | null>;
  cap_add: string[];
  cap_drop: string[];
  privileged?: boolean;
  read_only?: boolean;
  devices: { source: string; target: string; permissions?: string }[];
  group_add: string[];
  /** As Compose writes it (bytes as a string, or the written unit). */
  shm_size?: string;
  /** `name → address` (Compose's `name=address` and `name:address` forms). */
  extra_hosts: Record<string, string>;
  init?: boolean;
  stop_grace_period?: string;
  labels: Record<string, string>;
  configs: { source: string; target?: string; mode?: number; uid?: string; gid?: string }[];
  secrets: { source: string; target?: string; mode?: number; uid?: string; gid?: string }[];
  deploy?: {
    replicas?: number;
    resources?: {
      limits?: { cpus?: string; memory?: string };
      reservations?: { cpus?: string; memory?: string; devices?: { capabilities: string[]; count?: number | 'all'; device_ids?: string[]; driver?: string }[] };
    };
    [key: string]: unknown;
  };
  /** Every other key of the service, with its (interpolated) value: import carries or lists each. */
  other: Record<string, unknown>;
}

export interface ComposeEnvValue {
  /** The interpolated value; `null` when declared without a value and unset. */
  value: string | null;
  /** The value as written before interpolation, when it used variables. */
  template?: string;
  /** The variables the written value used (`${DB_PASSWORD}` → `DB_PASSWORD`). */
  variables: string[];
  /** Which file declared it: the Compose file's `environment:` or an env_file (relative to `directory`). */
  from: { environment: true } | { envFile: string };
}

export interface ComposePort {
  target: number;
  /** A host port or range as written (`"8080"`, `"8000-8010"`); absent when not published. */
  published?: string;
  host_ip?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  mode?: 'ingress' | 'host';
  name?: string;
}

export interface ComposeMount {
  type: 'volume' | 'bind' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
  /** A volume name, or a bind source resolved to an absolute path (as Compose resolves it); absent for tmpfs and anonymous volumes. */
  source?: string;
  /** A bind source as written (`./data`, `~/media`, `${DATA}/x` after interpolation), before resolution. */
  written_source?: string;
  target: string;
  read_only?: boolean;
  bind?: { propagation?: string; create_host_path?: boolean; selinux?: 'z' | 'Z' };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number | string; mode?: number };
}

export interface ComposeVolume {
  name?: string;
  external?: boolean;
  driver?: string;
  driver_opts?: Record<string, string>;
  labels?: Record<string, string>;
}

export interface ComposeNetwork {
  name?: string;
  external?: boolean;
  driver?: string;
  [key: string]: unknown;
}

/** A top-level `configs:` or `secrets:` entry. */
export interface ComposeFileObject {
  file?: string;
  content?: string;
  environment?: string;
  external?: boolean;
  name?: string;
}
