import type { Docker } from './docker';
import { DeployError } from './errors';
import type { Reporter } from './progress';

/**
 * Named volumes the container user can write (docs/deploy.md, "Volume ownership").
 *
 * Docker creates a named volume owned by root, and homelab's containers run as 65532 (or the
 * spec's `security.user`): without a step of its own, a stateful service's first write fails.
 * Kubernetes solves it with the pod's `fsGroup`; on Compose, deploy sets the owner of the volume
 * before the service's container is created, with a one-shot container of a small pinned image
 * (`compose.volumeOwner.image`, busybox) running as root with CHOWN and DAC_OVERRIDE only, no
 * network, a read-only root filesystem. The rule:
 *
 * - a volume this deploy creates is first filled from the service's image, as Docker fills a new
 *   volume on the first mount (the image's files at the mount path), then everything in it is
 *   given to the service's user: it holds no data yet;
 * - an existing volume that is empty gets the owner on its root (and on the mount's subpath);
 * - an existing volume with content is never changed: when its root belongs to someone else,
 *   deploy warns and says how to change it by hand;
 * - a volume already owned by the user, a read-only mount, a service running as root, and a
 *   volume that is not a local named volume (NFS, another driver) are left alone.
 *
 * The user is the service's `user:` (uid[:gid], numbers); without one (`security.imageUser`),
 * the image's `USER` when it is numeric. A user given by name, and a volume that services of
 * different users mount (root counts as one: a service running as root without capabilities
 * writes only what root owns), are reported and left alone.
 */

/** The default of homelab.yaml `compose.volumeOwner.image`: busybox (sh, stat, chown), pinned. */
export const VOLUME_OWNER_IMAGE = 'busybox:1.37.0';

/** A mount of a local named volume by a service, read-write, as the rendered Compose file says. */
export interface VolumeMount {
  /** The volume's key in the file (`data`) and its name on the engine (`<project>_data`, or `name:`). */
  key: string;
  name: string;
  external: boolean;
  /** The volume's labels in the file (`homelab.backup`), given to it when deploy creates it. */
  labels: Record<string, string>;
  service: string;
  image: string;
  target: string;
  subpath: string | null;
  /** The service's `user:`, or null when the image's user runs. */
  user: string | null;
}

/** The read-write mounts of local named volumes of every service of a rendered Compose document. */
export function volumeMounts(doc: Record<string, any>, project: string): VolumeMount[] {
  const volumes = (doc.volumes ?? {}) as Record<string, Record<string, any> | null>;
  const mounts: VolumeMount[] = [];
  for (const [service, s] of Object.entries((doc.services ?? {}) as Record<string, Record<string, any>>)) {
    for (const raw of Array.isArray(s?.volumes) ? s.volumes : []) {
      const m = typeof raw === 'string' ? shortMount(raw) : raw;
      if (!m || m.type !== 'volume' || typeof m.source !== 'string' || m.read_only === true) continue;
      const top = volumes[m.source] ?? {};
      const local = (top.driver === undefined || top.driver === 'local') && top.driver_opts === undefined;
      if (!local) continue;
      mounts.push({
        key: m.source,
        name: typeof top.name === 'string' ? top.name : `${project}_${m.source}`,
        external: top.external === true,
        labels: stringLabels(top.labels),
        service,
        image: String(s.image ?? ''),
        target: String(m.target),
        subpath: typeof m.volume?.subpath === 'string' ? m.volume.subpath : null,
        user: s.user === undefined || s.user === null ? null : String(s.user),
      });
    }
  }
  return mounts;
}

/** `source:target[:ro]` of a named volume (a source without '/' or '.'), as Compose reads it. */
function shortMount(text: string): Record<string, unknown> | null {
  const [source, target, mode] = text.split(':');
  if (!target || /^[./~]/.test(source)) return null;
  return { type: 'volume', source, target, read_only: (mode ?? '').split(',').includes('ro') };
}

function stringLabels(labels: unknown): Record<string, string> {
  if (Array.isArray(labels)) return Object.fromEntries(labels.map(String).map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries((labels ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

/** A user as `uid:gid` when it is numeric (the gid defaults to the uid, as homelab renders it), 'root', or null when it is a name. */
export function numericOwner(user: string): string | 'root' | null {
  const match = /^(\d+)(?::(\d+))?$/.exec(user.trim());
  if (!match) return user.trim() === 'root' || user.trim() === '' ? 'root' : null;
  if (Number(match[1]) === 0) return 'root';
  return `${match[1]}:${match[2] ?? match[1]}`;
}

/** The owner check of one volume, run as root in the helper container: prints what it found and did. */
export const OWNER_SCRIPT = [
  'set -eu',
  'owner="$1"; fresh="$2"; sub="$3"; dir=/volume',
  'if [ -n "$sub" ]; then dir="/volume/$sub"; fi',
  'before=$(stat -c %u:%g /volume)',
  'if [ "$fresh" = 1 ]; then mkdir -p "$dir"; chown -R "$owner" /volume; echo "set $before"; exit 0; fi',
  'if [ -z "$(ls -A /volume)" ]; then mkdir -p "$dir"; chown "$owner" /volume "$dir"; echo "set $before"; exit 0; fi',
  'if [ ! -e "$dir" ]; then mkdir -p "$dir"; chown "$owner" "$dir"; echo "subpath $before"; exit 0; fi',
  'now=$(stat -c %u:%g "$dir")',
  'if [ "$now" = "$owner" ]; then echo "owned $now"; else echo "kept $now"; fi',
].join('\n');

/** The labels Compose gives a volume it creates: with them, Compose takes the volume for its own (no warning) and `down --volumes` removes it. */
function composeLabels(project: string, key: string): Record<string, string> {
  return { 'com.docker.compose.project': project, 'com.docker.compose.volume': key };
}

/**
 * Sets the owner of the named volumes that the services deploy is about to create containers for
 * (`services`), before their containers exist. Returns nothing; prints a `[volumes]` line per
 * volume; a failing helper stops the deploy before anything else changed.
 */
export async function prepareVolumes(
  docker: Docker,
  project: string,
  mounts: readonly VolumeMount[],
  services: ReadonlySet<string>,
  helperImage: string,
  report: Reporter,
  who: string,
): Promise<void> {
  const wanted = mounts.filter((m) => services.has(m.service));
  if (wanted.length === 0) return;
  const owners = new Map<string, { mount: VolumeMount; owner: string }[]>();
  for (const mount of wanted) {
    const owner = await ownerOf(docker, mount);
    if (owner === null) {
      report.warn(`volume ${mount.name}: service ${mount.service} runs as ${mount.user ?? `the image's user of ${mount.image}`}, a name and not a uid: its owner is not set; give the service security.user { uid, gid } in its spec`);
      continue;
    }
    owners.set(mount.name, [...(owners.get(mount.name) ?? []), { mount, owner }]);
  }
  for (const [name, uses] of owners) {
    const distinct = [...new Set(uses.map((u) => u.owner))];
    // Root alone needs nothing: Docker creates the volume owned by root.
    if (distinct.length === 1 && distinct[0] === 'root') continue;
    // Root is a user too: a service running as root without capabilities writes only what root owns.
    if (distinct.length > 1) {
      report.warn(`volume ${name}: mounted by services of different users (${uses.map((u) => `${u.mount.service} as ${u.owner}`).join(', ')}); its owner is not set: give them one security.user`);
      continue;
    }
    const { mount, owner } = uses[0];
    const state = await createVolume(docker, project, mount);
    // An external volume that does not exist: Compose refuses it with its own message.
    if (state === 'missing') continue;
    const fresh = state === 'new';
    await ensureHelper(docker, helperImage, who);
    // A new volume is filled from the image first, as Docker does on its first mount, so that fill does not undo the owner.
    if (fresh) for (const use of uses) if (use.mount.subpath === null) await fillFromImage(docker, use.mount, who);
    const subpaths = [...new Set(uses.map((u) => u.mount.subpath ?? ''))];
    for (const subpath of subpaths) {
      const result = await docker.run([
        'run', '--rm', '--network', 'none', '--user', '0:0', '--cap-drop', 'ALL', '--cap-add', 'CHOWN', '--cap-add', 'DAC_OVERRIDE',
        '--security-opt', 'no-new-privileges', '--read-only', '--label', `homelab.volume-owner=${project}`,
        '--mount', `type=volume,source=${name},target=/volume`, '--entrypoint', 'sh', helperImage, '-c', OWNER_SCRIPT, 'sh', owner, fresh ? '1' : '0', subpath,
      ]);
      if (result.code !== 0) throw new DeployError(`${who}: volume ${name}: its owner could not be set with ${helperImage} (${docker.tools.tail(result, 2)}); check compose.volumeOwner.image in homelab.yaml; no container was changed`);
      const [what, before] = result.stdout.trim().split('\n').pop()!.split(' ');
      const at = subpath ? ` (subpath ${subpath})` : '';
      if (what === 'set') report.step('volumes', `${name}: ${fresh ? 'new' : 'empty'}, owner set to ${owner} for ${uses.map((u) => u.mount.service).join(', ')} (was ${before})`);
      else if (what === 'subpath') report.step('volumes', `${name}${at}: created, owned by ${owner}`);
      else if (what === 'owned') report.step('volumes', `${name}${at}: owned by ${owner}`);
      else report.warn(`volume ${name}${at} holds data owned by ${before}, and ${uses.map((u) => u.mount.service).join(', ')} runs as ${owner}: left as it is (deploy never changes the owner of existing data); if the service must write it: docker run --rm -v ${name}:/volume ${helperImage} chown -R ${owner} /volume`);
    }
  }
}

/** The owner a mount's files should have: the service's user, else the image's numeric USER. */
async function ownerOf(docker: Docker, mount: VolumeMount): Promise<string | 'root' | null> {
  if (mount.user !== null) return numericOwner(mount.user);
  const user = await docker.ok(['image', 'inspect', '--format', '{{.Config.User}}', mount.image], `docker image inspect ${mount.image}`);
  return numericOwner(user.trim());
}

async function ensureHelper(docker: Docker, image: string, who: string): Promise<void> {
  if (await docker.imageId(image)) return;
  const pulled = await docker.run(['pull', image]);
  if (pulled.code !== 0) throw new DeployError(`${who}: the volume owner image ${image} is not present locally and could not be pulled (${docker.tools.tail(pulled, 2)}); pull it, or set compose.volumeOwner.image in homelab.yaml to an image with sh, stat and chown; nothing was changed`);
}

/** Creates the volume as Compose would (its labels and Compose's) when it does not exist: 'new'; 'existing'; 'missing' for an external one that does not exist. */
async function createVolume(docker: Docker, project: string, mount: VolumeMount): Promise<'new' | 'existing' | 'missing'> {
  const found = await docker.run(['volume', 'inspect', '--format', '{{.Name}}', mount.name]);
  if (found.code === 0) return 'existing';
  if (!/no such volume/i.test(found.stderr)) throw new DeployError(`docker volume inspect ${mount.name} failed: ${docker.tools.tail(found, 2)}`);
  if (mount.external) return 'missing';
  const labels = { ...mount.labels, ...composeLabels(project, mount.key) };
  await docker.ok(['volume', 'create', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), mount.name], `docker volume create ${mount.name}`);
  return 'new';
}

/** Docker copies an image's files at the mount path into a new, empty volume when a container is created: done here first (the container never starts). */
async function fillFromImage(docker: Docker, mount: VolumeMount, who: string): Promise<void> {
  const id = (await docker.ok(['create', '--network', 'none', '--entrypoint', '/homelab-volume-fill', '--mount', `type=volume,source=${mount.name},target=${mount.target}`, mount.image], `docker create (filling ${mount.name} from ${mount.image})`)).trim();
  const removed = await docker.run(['rm', '-f', id]);
  if (removed.code !== 0) throw new DeployError(`${who}: docker rm ${id} failed: ${docker.tools.tail(removed, 2)}`);
}
