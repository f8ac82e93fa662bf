import * as os from 'node:os';

/**
 * The environment the external tools render with (`kubectl kustomize`, `docker compose config`),
 * in validate and in build alike: only what they need to run (PATH, HOME, and where Docker and
 * kubectl keep their configuration), plus `extra`. No other variable of the caller's shell
 * reaches a render, so `${VAR}` in a Compose file cannot pick up a value from the shell, the same
 * files render the same way for everyone, and a cached validate or build result depends only on
 * the inputs in its hash.
 */
export function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.homedir() };
  for (const key of ['DOCKER_CONFIG', 'KUBECONFIG']) if (process.env[key]) env[key] = process.env[key];
  return { ...env, ...extra };
}
