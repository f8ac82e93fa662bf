import type { NormalizedApp } from '../app/normalized';
import type { Finding } from './findings';
import { keyLineFinder } from './patches';
import { finding } from './source';

/**
 * parity/autoscale (docs/availability.md, "Autoscaling"): a Docker host has no autoscaler, so
 * where a service autoscales in an environment, Compose runs its autoscale.min replicas. One
 * warning per environment and service, on the line of the autoscale that applies there (the
 * environment's, else the service's), with how to run more on Compose; it never fails a spec.
 */
export function autoscaleFindings(app: NormalizedApp, specFile: string, specText: string): Finding[] {
  const at = keyLineFinder(specText);
  return app.environments.flatMap((env) =>
    env.workloadPatches
      .filter((p) => p.autoscale !== null)
      .map((p) => {
        const { min, max } = p.autoscale!;
        const own = app.fullForm ? ['environments', env.name, 'services', p.name] : ['environments', env.name];
        const service = app.fullForm ? ['services', p.name] : [];
        return finding(
          specFile,
          'parity/autoscale',
          `service ${p.name} autoscales from ${min} to ${max} replicas in ${env.name} on Kubernetes, but Compose has no autoscaler and runs ${min} (autoscale.min) there; to run more on Compose, set ${own.join('.')}.autoscale: false with its replicas, or deploy.replicas in its compose.override.yaml, or keep it as a known difference`,
          at([...own, 'autoscale'], [...service, 'autoscale']),
        );
      }),
  );
}
