import YAML, { type Document, isMap, isScalar, isSeq, type YAMLMap } from 'yaml';
import { InputError, show } from '../errors';
import { parseImageRef, type ImageRef } from '../spec/image';
import { parseAppSpec } from '../spec/io';
import type { AppSpec, FullAppSpec, ServiceSpec, ShorthandAppSpec, WorkspaceConfig } from '../spec/types';
import { type AppOptions, checkHost, checkPort, chosenEnvironments, parseSecretKeys, parseVolumes } from './options';

/** The spec with the answers merged in, and what changed, one line each. */
export interface MergedSpec {
  text: string;
  spec: AppSpec;
  changes: string[];
}

/**
 * `nx g homelab:app <existing> --force`: the answers given are merged into the spec as it is,
 * and everything else stays, comments and order included (the spec is edited as a YAML
 * document, not written anew). An answer not given changes nothing; an empty one (`--host=`,
 * `--secrets=`, `--volumes=`) removes what that answer would add. In the full form the image
 * goes to the one service whose repository it names, and the port to that service's HTTP port.
 * Refused in one line when an answer cannot be placed, with nothing written.
 */
export function mergeAnswers(text: string, file: string, options: AppOptions, workspace: WorkspaceConfig): MergedSpec {
  const current = parseAppSpec(text, file);
  const doc = new Editor(text);
  const changes: string[] = [];
  const image = parseImageRef(String(options.image ?? ''), '--image');
  const port = checkPort(options.port);

  if ('services' in current && current.services) {
    mergeService(doc, current, image, port, changes);
    if (options.volumes !== undefined) {
      throw new InputError(`--volumes applies to a spec of one container; ${current.name} has services: edit volumes and services.<service>.mounts in ${file}`);
    }
  } else {
    const shorthand = current as ShorthandAppSpec;
    setImage(doc, ['image'], shorthand.image, image, 'image', changes);
    const at = Math.max(0, shorthand.ports.findIndex((p) => p.http));
    if (shorthand.ports[at]?.port !== port) {
      doc.setIn(['ports', at, 'port'], port);
      changes.push(`ports[${at}].port: ${shorthand.ports[at]?.port} → ${port}`);
    }
    if (options.volumes !== undefined) mergeVolumes(doc, shorthand, parseVolumes(options.volumes), changes);
  }
  if (options.secrets !== undefined) mergeSecrets(doc, current, parseSecretKeys(options.secrets), changes);
  if (options.host !== undefined) mergeHost(doc, current, String(options.host), changes);
  if (options.environments !== undefined) mergeEnvironments(doc, current, chosenEnvironments(options.environments, workspace), changes);

  const merged = changes.length === 0 ? text : doc.toString();
  return { text: merged, spec: parseAppSpec(merged, file), changes };
}

/**
 * The spec as a YAML document, edited in place. A new value of a scalar that is there is
 * written over its text, so every other byte stays as the owner wrote it; anything else (a key
 * added or deleted, a list changed) edits the document, which is then written whole: comments and
 * order stay, the spacing inside flow collections may not.
 */
class Editor {
  readonly doc: Document;
  private readonly edits: { from: number; to: number; text: string }[] = [];
  private structural = false;

  constructor(private readonly text: string) {
    this.doc = YAML.parseDocument(text);
  }

  setIn(path: (string | number)[], value: string | number): void {
    const node = this.doc.getIn(path, true);
    if (isScalar(node) && node.range && (typeof value === 'number' || typeof node.value === 'string')) {
      this.edits.push({ from: node.range[0], to: node.range[1], text: scalarText(value) });
    } else {
      this.structural = true;
    }
    this.doc.setIn(path, value);
  }

  /** An edit of the document's structure, made by `edit` on the document itself. */
  change<T>(edit: (doc: Document) => T): T {
    this.structural = true;
    return edit(this.doc);
  }

  getIn(path: (string | number)[]): unknown {
    return this.doc.getIn(path);
  }

  hasIn(path: (string | number)[]): boolean {
    return this.doc.hasIn(path);
  }

  toString(): string {
    if (this.structural) return this.doc.toString({ lineWidth: 0 });
    let out = this.text;
    for (const edit of [...this.edits].sort((a, b) => b.from - a.from)) out = out.slice(0, edit.from) + edit.text + out.slice(edit.to);
    return out;
  }
}

/** A scalar as it can stand in block and flow context alike: plain when safe, else double-quoted. */
function scalarText(value: string | number): string {
  if (typeof value === 'number') return String(value);
  return /^[A-Za-z0-9_./@+-][A-Za-z0-9_./@:+-]*$/.test(value) && !/^(true|false|null|yes|no|on|off|~|[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|0x[0-9a-f]+|0o[0-7]+|[-+]?\.(inf|nan))$/i.test(value) ? value : JSON.stringify(value);
}

/** The full form: the image to the service whose repository it names, the port to that service's HTTP port. */
function mergeService(doc: Editor, spec: FullAppSpec, image: ImageRef, port: number, changes: string[]): void {
  const entries = Object.entries(spec.services);
  const matching = entries.filter(([, s]) => s.image.repository === image.repository);
  if (matching.length !== 1) {
    const listed = entries.map(([n, s]) => `${n}: ${s.image.repository}`).join(', ');
    throw new InputError(
      matching.length === 0
        ? `--image ${show(image.repository)} is the image of no service of ${spec.name} (${listed}); give one of those repositories with its new tag, or edit services.<service>.image in the spec`
        : `--image ${show(image.repository)} is the image of several services of ${spec.name} (${matching.map(([n]) => n).join(', ')}); edit services.<service>.image in the spec`,
    );
  }
  const [name, service] = matching[0] as [string, ServiceSpec];
  setImage(doc, ['services', name, 'image'], service.image, image, `services.${name}.image`, changes);
  const ports = service.ports ?? [];
  const http = ports.findIndex((p) => p.http);
  if (http >= 0 && ports[http].port !== port) {
    doc.setIn(['services', name, 'ports', http, 'port'], port);
    changes.push(`services.${name}.ports[${http}].port: ${ports[http].port} → ${port}`);
  } else if (http < 0 && !ports.some((p) => p.port === port)) {
    throw new InputError(`--port ${port} is no port of service ${name}, which has no HTTP port to change; edit services.${name}.ports in the spec`);
  }
}

function setImage(doc: Editor, path: (string | number)[], was: { repository: string; tag?: string; digest?: string }, image: ImageRef, field: string, changes: string[]): void {
  const show = (i: { repository: string; tag?: string; digest?: string }) => `${i.repository}${i.tag ? `:${i.tag}` : ''}${i.digest ? `@${i.digest}` : ''}`;
  if (show(was) === show(image)) return;
  for (const key of ['repository', 'tag', 'digest'] as const) {
    const value = image[key];
    if (value === undefined) {
      if (doc.hasIn([...path, key])) doc.change((d) => d.deleteIn([...path, key]));
    } else if (doc.getIn([...path, key]) !== value) {
      doc.setIn([...path, key], value);
    }
  }
  changes.push(`${field}: ${show(was)} → ${show(image)}`);
}

/** The app's secret keys become the given list: kept keys keep their entries (remoteKey, property), new ones get the app's store entry. */
function mergeSecrets(editor: Editor, spec: AppSpec, keys: string[], changes: string[]): void {
  const had = (spec.secrets ?? []).map((s) => s.key);
  if (JSON.stringify(had) === JSON.stringify(keys)) return;
  const doc = editor.change((d) => d);
  if (keys.length === 0) {
    doc.delete('secrets');
  } else {
    const seq = doc.get('secrets', true);
    const kept = isSeq(seq) ? seq.items.filter((item) => isMap(item) && keys.includes(String((item as YAMLMap).get('key')))) : [];
    const added = keys.filter((k) => !had.includes(k)).map((key) => doc.createNode({ key, remoteKey: spec.name, property: key }));
    if (isSeq(seq)) seq.items = [...kept, ...added];
    else doc.set('secrets', doc.createNode(keys.map((key) => ({ key, remoteKey: spec.name, property: key }))));
  }
  const removed = had.filter((k) => !keys.includes(k));
  const added = keys.filter((k) => !had.includes(k));
  changes.push(`secrets: ${[...added.map((k) => `+${k}`), ...removed.map((k) => `-${k}`)].join(' ')}`);
}

/** The shorthand's volumes become the given list: kept names keep their other fields (backup, storageClass). */
function mergeVolumes(editor: Editor, spec: ShorthandAppSpec, volumes: ReturnType<typeof parseVolumes>, changes: string[]): void {
  const had = spec.volumes ?? [];
  const same = had.length === volumes.length && had.every((v, i) => v.name === volumes[i].name && v.size === volumes[i].size && v.mountPath === volumes[i].mountPath);
  if (same) return;
  const doc = editor.change((d) => d);
  if (volumes.length === 0) {
    doc.delete('volumes');
  } else {
    const seq = doc.get('volumes', true);
    const items = volumes.map((v) => {
      const existing = isSeq(seq) ? seq.items.find((item) => isMap(item) && (item as YAMLMap).get('name') === v.name) : undefined;
      if (!isMap(existing)) return doc.createNode(v);
      existing.set('size', v.size);
      existing.set('mountPath', v.mountPath);
      return existing;
    });
    if (isSeq(seq)) seq.items = items;
    else doc.set('volumes', doc.createNode(volumes));
  }
  changes.push(`volumes: ${volumes.map((v) => `${v.name}:${v.size}:${v.mountPath}`).join(',') || '(none)'}`);
}

/** The ingress host: set (keeping tls and the rest), added with TLS, or removed by an empty answer. */
function mergeHost(doc: Editor, spec: AppSpec, host: string, changes: string[]): void {
  const had = spec.ingress?.host;
  if (host === '') {
    if (had === undefined) return;
    doc.change((d) => d.delete('ingress'));
    changes.push(`ingress: removed (was ${had})`);
    return;
  }
  const checked = checkHost(host);
  if (had === checked) return;
  if (spec.ingress) doc.setIn(['ingress', 'host'], checked);
  else doc.change((d) => d.set('ingress', d.createNode({ host: checked, tls: true })));
  changes.push(`ingress.host: ${had ?? '(none)'} → ${checked}`);
}

/** The environments become the given list: a kept environment keeps its overrides. */
function mergeEnvironments(editor: Editor, spec: AppSpec, chosen: string[], changes: string[]): void {
  const had = Object.keys(spec.environments ?? {});
  if (JSON.stringify([...had].sort()) === JSON.stringify([...chosen].sort())) return;
  const doc = editor.change((d) => d);
  const map = doc.get('environments', true);
  if (!isMap(map)) {
    doc.set('environments', doc.createNode(Object.fromEntries(chosen.map((e) => [e, {}]))));
  } else {
    for (const env of had) if (!chosen.includes(env)) map.delete(env);
    for (const env of chosen) if (!map.has(env)) map.set(env, doc.createNode({}));
  }
  changes.push(`environments: ${had.join(', ') || '(none)'} → ${chosen.join(', ')}`);
}
