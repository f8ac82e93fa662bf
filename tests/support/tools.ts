import { spawnSync } from 'node:child_process';

/** How each external tool the integration tests use is probed. */
export const TOOL_PROBES: Record<string, readonly string[]> = {
  kubectl: ['kubectl', 'version', '--client'],
  'docker compose': ['docker', 'compose', 'version'],
};

export interface ToolRequirement {
  /** The tool answered its probe. */
  available: boolean;
  /** Pass to `describe.skipIf` / `it.skipIf`: true only outside CI when the tool is missing. */
  skip: boolean;
  /** Why the tool is missing, naming it and the setup script; '' when available. */
  reason: string;
}

/**
 * Declares that the tests of a file need an external tool. When the tool is there, the
 * tests run. When it is missing, the file FAILS if `CI` is set (CI must never skip:
 * a green CI run proves kustomize and compose rendering) and is otherwise skipped with
 * a console warning that names the tool and `npm run setup:engines`.
 *
 * @example
 * const kubectl = requireTool('kubectl');
 * describe.skipIf(kubectl.skip)('kubectl kustomize', () => { ... });
 */
export function requireTool(
  name: string,
  probe: readonly string[] = TOOL_PROBES[name] ?? [name, '--version'],
  env: NodeJS.ProcessEnv = process.env,
  /** The probe's own environment and time limit (a probe that downloads the tool on first use needs minutes). */
  probeOptions: { env?: NodeJS.ProcessEnv; timeout?: number } = {},
): ToolRequirement {
  const [command, ...args] = probe;
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: probeOptions.timeout ?? 30_000, env: probeOptions.env ?? process.env });
  if (result.status === 0) return { available: true, skip: false, reason: '' };
  const why = result.error ? result.error.message : (result.stderr || result.stdout || '').trim().split('\n')[0];
  const reason = `${name} is not available (\`${probe.join(' ')}\`: ${why || `exit ${result.status}`}); install it with \`npm run setup:engines\``;
  if (isCI(env)) {
    throw new Error(`${reason}. CI is set and CI never skips these tests.`);
  }
  console.warn(`[homelab tests] SKIPPED: ${reason}`);
  return { available: false, skip: true, reason };
}

/** CI=true (GitHub Actions, .ci/run) or any other non-empty value except "false" and "0". */
function isCI(env: NodeJS.ProcessEnv): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (no shell) and returns its exit status and output. */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number; input?: string } = {},
): RunResult {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    input: options.input,
    env: options.env ?? process.env,
    encoding: 'utf8',
    timeout: options.timeout ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Like run, but throws with the tool's stderr when it exits non-zero. */
export function runOk(command: string, args: readonly string[], options: Parameters<typeof run>[2] = {}): string {
  const result = run(command, args, options);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}
