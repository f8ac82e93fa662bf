import { InputError, show } from '../../errors';
import type { AppSpec, WorkspaceEnvironment } from '../../spec/types';
import { HOSTNAME } from '../options';

/**
 * The placeholders of homelab.yaml `environments[].hostPattern` (docs/spec.md, "Hosts"), each
 * read from the app and its environment:
 * `{host}` the spec's `ingress.host`, `{label}` its first label, `{domain}` the rest after the
 * first dot, `{env}` the environment's name, `{app}` the app's name.
 */
export const HOST_PLACEHOLDERS = ['host', 'label', 'domain', 'env', 'app'] as const;

/** A protected environment serves the spec's host as it is. */
export const PROTECTED_HOST_PATTERN = '{host}';
/** Any other environment: the environment's name after the first label (`whoami.dev.home.example.org`). */
export const DEFAULT_HOST_PATTERN = '{label}.{env}.{domain}';

/** The pattern an environment's hosts follow: its own `hostPattern`, else the default of its kind. */
export function hostPatternOf(env: WorkspaceEnvironment): string {
  return env.hostPattern ?? (env.protected ? PROTECTED_HOST_PATTERN : DEFAULT_HOST_PATTERN);
}

/**
 * The one place that says which host an app answers on in an environment: the spec's
 * `environments.<env>.host` when it names one, else the environment's host pattern applied to
 * the spec's `ingress.host`. Empty for an app without ingress. Everything else (both platforms'
 * routes, the Gateway's listeners, the host collision check) reads the result, never the pattern.
 *
 * @example appHost({ name: 'whoami', ingress: { host: 'whoami.home.example.org' } }, { name: 'dev' }, where) // 'whoami.dev.home.example.org'
 */
export function appHost(spec: AppSpec, env: WorkspaceEnvironment, where: string): string {
  const own = spec.environments?.[env.name]?.host;
  if (own) return own;
  const host = spec.ingress?.host;
  if (!host) return '';
  const pattern = hostPatternOf(env);
  const dot = host.indexOf('.');
  const values: Record<(typeof HOST_PLACEHOLDERS)[number], string> = {
    host,
    label: host.slice(0, dot),
    domain: host.slice(dot + 1),
    env: env.name,
    app: spec.name,
  };
  const result = pattern.replace(/\{([a-z]+)\}/g, (whole, key: string) => (key in values ? values[key as keyof typeof values] : whole));
  if (!HOSTNAME.test(result) || result.length > 253) {
    throw new InputError(
      `${where}: the host of ${spec.name} in ${env.name} would be ${show(result)} (homelab.yaml hostPattern ${show(pattern)} on ${show(host)}), which is not a host name; fix hostPattern of ${env.name} in homelab.yaml, or set environments.${env.name}.host in the spec`,
    );
  }
  return result;
}
