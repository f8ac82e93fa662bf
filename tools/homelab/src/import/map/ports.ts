import type { PortSpec } from '../../spec/types';
import type { ComposeService } from '../model';
import type { ImportReport } from './report';

const PORT_NAME = /^[a-z]([-a-z0-9]{0,13}[a-z0-9])?$/;

/**
 * A service's ports: `expose` and unpublished `ports` are container ports, published ones get
 * `publish: { port, address }` (the host port only where it differs; the address as the source
 * binds it); UDP is kept. Each is named `<protocol>-<port>` (`tcp-5432`, `udp-53`), or by its
 * Compose `name`, except the one port the source shows to serve HTTP (`httpPort`: the port a
 * Traefik router sends to, or the one its health check fetches over HTTP), named `http` and
 * marked `http: true`. Port ranges and SCTP are listed; on the host network a published port
 * is the host's already, so it is kept unpublished.
 */
export function mapPorts(service: string, svc: ComposeService, report: ImportReport, httpPort: number | undefined, hostNetwork: boolean): PortSpec[] {
  const ports = new Map<string, PortSpec>();
  const add = (port: number, protocol: 'tcp' | 'udp', name?: string): PortSpec => {
    const key = `${port}/${protocol}`;
    let spec = ports.get(key);
    if (!spec) {
      const http = protocol === 'tcp' && port === httpPort;
      spec = { name: http ? 'http' : name && PORT_NAME.test(name) && name !== 'http' ? name : `${protocol}-${port}`, port, ...(protocol === 'udp' ? { protocol: 'UDP' as const } : {}), ...(http ? { http: true } : {}) };
      if ([...ports.values()].some((p) => p.name === spec!.name)) spec.name = `${protocol}-${port}`;
      ports.set(key, spec);
    }
    return spec;
  };
  for (const written of svc.expose) {
    const at = `services.${service}.expose.${written}`;
    const match = /^([0-9]+)(?:\/(tcp|udp))?$/.exec(written.trim());
    if (!match) {
      report.notCarried(at, /^[0-9]+-[0-9]+/.test(written) ? 'a port range: the spec names each port; list the ports the service uses' : 'not a port the spec can hold (a number, optionally /tcp or /udp)');
      continue;
    }
    add(Number(match[1]), (match[2] as 'tcp' | 'udp' | undefined) ?? 'tcp');
  }
  for (const p of svc.ports) {
    const at = `services.${service}.ports.${p.published ? `${p.published}:` : ''}${p.target}/${p.protocol}`;
    if (p.protocol === 'sctp') {
      report.notCarried(at, 'SCTP: the spec holds TCP and UDP ports');
      continue;
    }
    if (p.published !== undefined && !/^[0-9]+$/.test(p.published)) {
      report.notCarried(at, 'a published port range: the spec publishes each port on one host port; list the ports the service uses');
      continue;
    }
    const spec = add(p.target, p.protocol, p.name);
    if (p.published === undefined) continue;
    if (hostNetwork) {
      report.note(`${at}: the service runs on the host network, where its ports are the host's already; kept as a container port`);
      continue;
    }
    if (spec.publish) {
      report.notCarried(at, `port ${p.target}/${p.protocol} is published already (the spec publishes a port once); publish it on the other address with patches.compose`);
      continue;
    }
    const published = Number(p.published);
    const address = p.host_ip === undefined || p.host_ip === '' ? undefined : p.host_ip.includes(':') && !p.host_ip.startsWith('[') ? `[${p.host_ip}]` : p.host_ip;
    spec.publish = { ...(published !== p.target ? { port: published } : {}), ...(address ? { address } : {}) };
  }
  return [...ports.values()];
}
