import YAML from 'yaml';
import type { NormalizedApp } from '../app/normalized';
import { isPlaced, type Placement } from '../app/steps/placement';
import { positionIn } from '../spec/locate';
import type { Finding } from './findings';
import { finding } from './source';

/**
 * parity/placement (docs/availability.md, "Placement"): a service's placement (node labels,
 * tolerations, node affinity) chooses Kubernetes nodes; a Docker host is one machine, so an
 * environment deployed with Compose runs the service wherever its Docker host is. One warning
 * per environment with Compose files and placed service, at the line of the placement that
 * applies there (the environment's own, else the service's). A warning, never an error: the
 * difference is known and documented, and a clean spec still validates with exit 0.
 * `environments.<env>.node` alone is not reported: it pins the host paths and devices of a
 * Kubernetes node, which a Docker host has by being that machine.
 */
export function placementFindings(app: NormalizedApp, composeEnvironments: string[], specFile: string, specText: string): Finding[] {
  // The spec is parsed for positions only when there is a finding to place (most apps have none).
  let parsed: { lc: YAML.LineCounter; doc: YAML.Document.Parsed } | undefined;
  const positions = () => {
    if (!parsed) {
      const lc = new YAML.LineCounter();
      parsed = { lc, doc: YAML.parseDocument(specText, { lineCounter: lc }) };
    }
    return parsed;
  };
  const out: Finding[] = [];
  for (const env of app.environments.filter((e) => composeEnvironments.includes(e.name))) {
    for (const service of app.services) {
      const patch = env.workloadPatches.find((p) => p.name === service.name)?.placement;
      const own = patch?.own === true;
      const placement: Placement = own ? patch : service.placement;
      if (!isPlaced(placement)) continue;
      const servicePath = app.fullForm ? ['services', service.name] : [];
      const path = own ? ['environments', env.name, ...servicePath, 'placement'] : [...servicePath, 'placement'];
      // At the `placement:` key: its value is a block on the lines below.
      const { doc, lc } = positions();
      const at = positionIn(doc, lc, path.slice(0, -1), 'placement');
      const who = app.fullForm ? `service ${service.name}` : app.name;
      out.push(
        finding(
          specFile,
          'parity/placement',
          `${who}: ${path.join('.')} (${summary(placement)}) chooses Kubernetes nodes only; in ${env.name} on Compose the environment's Docker host is the placement: deploy ${env.name} to a Docker host that has what ${who} needs, or accept the difference`,
          at?.line ?? 1,
          at?.col ?? 1,
        ),
      );
    }
  }
  return out;
}

/** What a placement asks for, in a few words: its node labels, how many tolerations, a node affinity. */
function summary(p: Placement): string {
  const parts = [
    ...Object.entries(p.nodeSelector).map(([k, v]) => `${k}=${v}`),
    ...(p.hasTolerations ? [`${p.tolerations.length} toleration${p.tolerations.length === 1 ? '' : 's'}`] : []),
    ...(p.nodeAffinity ? ['a node affinity'] : []),
  ];
  return parts.join(', ');
}
