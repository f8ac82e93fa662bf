import { InputError, show } from '../../errors';
import type { PortSpec } from '../../spec/types';
import type { NormalizedApp } from '../normalized';
import { unique } from './unique';

export type Port = NormalizedApp['ports'][number];

export interface Ports {
  ports: Port[];
  /** Ports published outside the app: Compose `ports` on the Docker host, a LoadBalancer Service on Kubernetes. */
  published: { name: string; target: number; published: string; hostIp: string; protocol: 'tcp' | 'udp' }[];
  /** The ports of the Kubernetes Service: a published port listens on its published number. */
  servicePorts: Port[];
  /** The name of the port marked http: true, if any. */
  httpPort: string | undefined;
  /** The port a field names, else the fallback's; refuses a missing or unknown one naming the field. */
  byName(ref: string | undefined, field: string, fallback: string | undefined): Port;
}

/** Where a container's fields sit in the spec, for messages: the shorthand's at the top, a service's under `services.<name>.`. */
export interface FieldPrefix {
  /** '' for the shorthand, `services.<name>.` for a service of the full form. */
  field: string;
  /** How a message names the owner of the ports: "the app", or `service "<name>"`. */
  of: string;
}

export const SHORTHAND: FieldPrefix = { field: '', of: 'the app' };

/** A container's ports (TCP unless said), each name and number once, at most one marked http. */
export function normalizePorts(specPorts: PortSpec[], where: string, at: FieldPrefix = SHORTHAND): Ports {
  const ports = specPorts.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? ('TCP' as const) }));
  unique(ports.map((p) => p.name), `${where}: ${at.field}ports[].name`, 'give each port its own name');
  unique(ports.map((p) => `${p.port}/${p.protocol}`), `${where}: ${at.field}ports[].port`, 'give each port its own number');
  const httpPorts = specPorts.filter((p) => p.http);
  if (httpPorts.length > 1) {
    throw new InputError(`${where}: ${at.field}ports ${show(httpPorts.map((p) => p.name).join(','))} are all marked http; mark one port http: true`);
  }
  const byName = (ref: string | undefined, field: string, fallback: string | undefined) => {
    const wanted = ref ?? fallback;
    if (!wanted) {
      throw new InputError(`${where}: ${field} needs a port; mark one port http: true or set ${field}`);
    }
    const port = ports.find((p) => p.name === wanted);
    if (!port) {
      const choices = ports.length > 0 ? `use one of ${ports.map((p) => show(p.name)).join(', ')}` : `add it to ${at.field}ports`;
      throw new InputError(`${where}: ${field} ${show(wanted)} is not a port of ${at.of}; ${choices}`);
    }
    return port;
  };
  const published = specPorts
    .filter((p) => p.publish)
    .map((p) => ({
      name: p.name,
      target: p.port,
      published: String(p.publish?.port ?? p.port),
      hostIp: (p.publish?.address ?? '0.0.0.0').replace(/^\[|\]$/g, ''),
      protocol: (p.protocol ?? 'TCP') === 'UDP' ? ('udp' as const) : ('tcp' as const),
    }));
  const servicePorts = specPorts.map((p, i) => ({ ...ports[i], port: p.publish?.port ?? p.port }));
  return { ports, published, servicePorts, httpPort: httpPorts[0]?.name, byName };
}
