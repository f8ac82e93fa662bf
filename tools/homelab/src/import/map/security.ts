import type { ServiceSpec } from '../../spec/types';
import type { ComposeService } from '../model';
import type { ImportReport } from './report';

type Security = NonNullable<ServiceSpec['security']>;

/**
 * How the service runs, kept as the source says (an import must start the way the source
 * started): each setting looser than homelab's defaults becomes the opt-in that allows it,
 * with the reason `imported: the source stack …`, so validate passes and review sees it.
 * - `user: 0`/`root` → runAsRoot; `uid[:gid]` → user; no `user:` → imageUser (the image's own
 *   USER, as Compose runs it); a user name → listed (Kubernetes needs numbers);
 * - no `read_only: true` → writableRootFilesystem;
 * - no `cap_drop: [ALL]` → defaultCapabilities (the runtime's default set); `cap_add` → capabilities;
 * - privileged → privileged; `network_mode: host` → hostNetwork; other network modes listed.
 */
export function mapSecurity(service: string, svc: ComposeService, report: ImportReport): Security {
  const at = `services.${service}`;
  const security: Security = {};
  const user = svc.user?.trim();
  if (user === undefined || user === '') {
    security.imageUser = "imported: the source stack runs it as the image's own user (no user: set)";
  } else {
    const [uid, gid] = user.split(':');
    const root = uid === '0' || uid === 'root';
    if (root) {
      security.runAsRoot = `imported: the source stack runs it as root (user: ${user})`;
      if (gid !== undefined && gid !== '0' && gid !== 'root') report.notCarried(`${at}.user`, `the group ${gid} beside root: runAsRoot runs as user and group 0`);
    } else if (/^[0-9]+$/.test(uid) && (gid === undefined || /^[0-9]+$/.test(gid))) {
      if (gid === '0') {
        security.user = { uid: Number(uid) };
        report.notCarried(`${at}.user`, `the group 0 (root's group): the spec runs the service with the group of its uid; add groupAdd: [0] if it needs root's group`);
      } else security.user = gid === undefined ? { uid: Number(uid) } : { uid: Number(uid), gid: Number(gid) };
    } else {
      report.notCarried(`${at}.user`, `the user ${JSON.stringify(user)} is a name: Kubernetes runs a container as a numeric uid[:gid]; write the numbers the image gives that name`);
    }
  }
  if (svc.read_only !== true) security.writableRootFilesystem = 'imported: the source stack runs it with a writable root filesystem';
  const dropped = svc.cap_drop.map(capability);
  if (!dropped.includes('ALL')) {
    security.defaultCapabilities = "imported: the source stack keeps the runtime's default capabilities";
    if (dropped.length > 0) report.notCarried(`${at}.cap_drop`, `dropping only ${dropped.join(', ')}: the spec drops all capabilities or keeps the default set`);
  }
  for (const cap of svc.cap_add.map(capability)) {
    if (cap === 'ALL' || !/^[A-Z][A-Z_]{1,30}$/.test(cap)) {
      report.notCarried(`${at}.cap_add.${cap}`, cap === 'ALL' ? 'every capability: name the ones the service needs, or give it privileged with its reason' : 'not a capability name');
      continue;
    }
    (security.capabilities ??= {})[cap] = `imported: the source stack adds ${cap}`;
  }
  if (svc.privileged) security.privileged = 'imported: the source stack runs it privileged';
  const mode = svc.network_mode;
  if (mode === 'host') security.hostNetwork = 'imported: the source stack runs it on the host network';
  else if (mode !== undefined && mode !== 'bridge' && mode !== 'default') {
    report.notCarried(`${at}.network_mode`, `${JSON.stringify(mode)}: the spec's services each have their own network namespace on the app's network (or the host's); reach the other service by its name`);
  }
  return security;
}

/** A capability without the CAP_ prefix, upper-case, as the spec keys them. */
const capability = (cap: string): string => cap.trim().toUpperCase().replace(/^CAP_/, '');
