import { InputError, show } from '../../errors';
import type { ShorthandAppSpec } from '../../spec/types';
import type { NormalizedApp } from '../normalized';
import { unique } from './unique';

export type Port = NormalizedApp['ports'][number];

export interface Ports {
  ports: Port[];
  /** The name of the port marked http: true, if any. */
  httpPort: string | undefined;
  /** The port a field names, else the fallback's; refuses a missing or unknown one naming the field. */
  byName(ref: string | undefined, field: string, fallback: string | undefined): Port;
}

/** The app's ports (TCP unless said), each name and number once, at most one marked http. */
export function normalizePorts(spec: ShorthandAppSpec, where: string): Ports {
  const ports = spec.ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? ('TCP' as const) }));
  unique(ports.map((p) => p.name), `${where}: ports[].name`, 'give each port its own name');
  unique(ports.map((p) => `${p.port}/${p.protocol}`), `${where}: ports[].port`, 'give each port its own number');
  const httpPorts = spec.ports.filter((p) => p.http);
  if (httpPorts.length > 1) {
    throw new InputError(`${where}: ports ${show(httpPorts.map((p) => p.name).join(','))} are all marked http; mark one port http: true`);
  }
  const byName = (ref: string | undefined, field: string, fallback: string | undefined) => {
    const wanted = ref ?? fallback;
    if (!wanted) {
      throw new InputError(`${where}: ${field} needs a port; mark one port http: true or set ${field}`);
    }
    const port = ports.find((p) => p.name === wanted);
    if (!port) {
      throw new InputError(`${where}: ${field} ${show(wanted)} is not a port of the app; use one of ${ports.map((p) => show(p.name)).join(', ')}`);
    }
    return port;
  };
  return { ports, httpPort: httpPorts[0]?.name, byName };
}
