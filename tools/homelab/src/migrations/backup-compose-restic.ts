import type { Tree } from '@nx/devkit';
import YAML from 'yaml';
import { CATALOG } from '../component/catalog';
import { componentSpecPath, parseComponentSpec } from '../component/spec';
import { type FileHost, treeHost } from '../host';
import { userFiles } from '../project/orphans';
import { ownedFiles } from '../project/owned';
import { composeProjectName } from '../workspace/remove';

const COMPONENT = 'backup';
const COMPOSE_TREE = 'infrastructure/compose/';
/** The description the generator wrote before 0.3.0: replaced by today's, a description of your own is kept. */
const OLD_DESCRIPTION = 'The backup operator of homelab.yaml backup.provider (VolSync, Velero or k8up) on Kubernetes; offen/docker-volume-backup on Compose.';

/**
 * Nx migration (tools/homelab/migrations.json, version 0.3.0): since 0.3.0 each app's Compose
 * project backs up its own volumes with restic (docs/backup.md), and the backup component has no
 * Compose form any more (its host-wide offen/docker-volume-backup service archived Docker's own
 * volume folder into a volume inside it). This takes `compose` out of the `platforms` of
 * `infrastructure/specs/backup.yaml` and drops its `compose` pins (the generator's old description
 * becomes today's; comments and every other line kept), and deletes what the component rendered for Compose: its Compose base and each
 * environment's compose.generated.yaml, and each compose.override.yaml that is still the empty
 * scaffold. A file of yours that holds something (an override with services, a .env) is kept and
 * named in the notes, as is the command that stops the old stack where it runs. A spec that lists
 * compose only is left as it is, with a note (the component has nothing left to render).
 * Idempotent: a spec without compose and with no Compose files changes nothing.
 */
export default function backupComposeRestic(tree: Tree): string[] {
  return removeBackupCompose(treeHost(tree));
}

/** The migration over any file host: one note per thing it did or left to its owner. */
export function removeBackupCompose(host: FileHost): string[] {
  const file = componentSpecPath(COMPONENT);
  const text = host.read(file);
  if (text === null) return [];
  const spec = parseComponentSpec(text, file);
  if (spec.platforms?.length === 1 && spec.platforms[0] === 'compose') {
    return [`${file}: lists compose only, and the backup component has no Compose form since 0.3.0 (each app's project backs itself up: docs/backup.md); remove it with \`npx nx g homelab:remove backup\``];
  }
  const notes: string[] = [];
  const doc = YAML.parseDocument(text);
  const platforms = doc.get('platforms');
  let changed = false;
  if (YAML.isSeq(platforms)) {
    const at = platforms.items.findIndex((item) => YAML.isScalar(item) && item.value === 'compose');
    if (at >= 0) {
      platforms.items.splice(at, 1);
      changed = true;
    }
  }
  if (doc.has('compose')) {
    doc.delete('compose');
    changed = true;
  }
  if (doc.get('description') === OLD_DESCRIPTION) {
    doc.set('description', CATALOG.backup.description);
    changed = true;
  }
  if (changed) {
    const out = doc.toString({ lineWidth: 0 });
    // What is written is read back as a spec first: a refusal writes nothing.
    parseComponentSpec(out, file);
    host.write(file, out);
    notes.push(`${file}: compose taken out of platforms, with its pins: each app's Compose project backs up its own volumes since 0.3.0 (docs/backup.md)`);
  }

  const project = { layer: 'infrastructure' as const, name: COMPONENT };
  const rendered = ownedFiles(host, project).filter((f) => f.startsWith(COMPOSE_TREE));
  const stacks = rendered.filter((f) => f.endsWith('/compose.generated.yaml')).map((f) => composeProjectName(host.read(f) ?? ''));
  const yours = userFiles(host, 'infrastructure', COMPONENT, rendered).filter((f) => f.startsWith(COMPOSE_TREE));
  const scaffolds = yours.filter((f) => f.endsWith('/compose.override.yaml') && isEmptyOverride(host.read(f) ?? ''));
  for (const f of [...rendered, ...scaffolds]) host.delete(f);
  if (rendered.length + scaffolds.length > 0) notes.push(`deleted the backup component's Compose files: ${[...rendered, ...scaffolds].join(', ')}`);
  const kept = yours.filter((f) => !scaffolds.includes(f));
  if (kept.length > 0) notes.push(`kept your files, which nothing reads any more (move what they hold, then delete them): ${kept.join(', ')}`);
  const running = stacks.filter((p): p is string => p !== null);
  if (running.length > 0) {
    notes.push(`where the old backup stack runs, stop it: ${running.map((p) => `\`docker compose -p ${p} down\``).join(', ')} (its archive volume is kept; \`nx run-many -t deploy\` then creates each app's restic movers)`);
  }
  return notes;
}

/** An override as homelab scaffolded it: nothing but `services: {}` (and comments). */
function isEmptyOverride(text: string): boolean {
  try {
    return JSON.stringify(YAML.parse(text)) === '{"services":{}}';
  } catch {
    return false;
  }
}
