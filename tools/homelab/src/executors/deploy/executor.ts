import type { ExecutorContext } from '@nx/devkit';
import { composeFiles, projectEnvironments, type Layer } from '../../build/render';

export interface DeployOptions {
  layer: Layer;
  env?: string;
  platform?: 'compose' | 'kubernetes';
  dryRun?: boolean;
  yes?: boolean;
}

/**
 * `nx run <project>:deploy --env <env>`. So far only the plan (`--dry-run`) is
 * implemented: the health-checked, rolled-back deploy is tracked as its own piece of
 * work, and until it lands a real deploy refuses to run rather than pretend.
 */
export default async function deployExecutor(options: DeployOptions, context: ExecutorContext): Promise<{ success: boolean }> {
  const project = context.projectName!;
  const envs = projectEnvironments(context.root, options.layer, project);
  const env = envs.find((e) => e.env === options.env);
  if (!options.env || !env) {
    console.error(`${project}: --env ${JSON.stringify(options.env ?? '')} is not an environment of this project; use one of ${envs.map((e) => e.env).join(', ')}`);
    return { success: false };
  }
  const platform = options.platform ?? 'compose';
  const plan =
    platform === 'compose'
      ? `docker compose ${composeFiles(options.layer, project, env.env).map((f) => `-f ${f}`).join(' ')} up -d --wait`
      : `kubectl apply --server-side -f dist/${env.env}/kubernetes/${project}.yaml`;
  console.log(`plan for ${project} in ${env.env} (${platform}): ${plan}`);
  if (options.dryRun) return { success: true };
  console.error(`${project}: deploying is not available yet; run with --dry-run to see the plan`);
  return { success: false };
}
