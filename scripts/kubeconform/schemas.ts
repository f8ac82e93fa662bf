/**
 * Writes kubeconform's schema folder from the same sources and the same strict definitions
 * `homelab validate` checks with (scripts/build-schemas.ts `strictKinds`: the Kubernetes OpenAPI
 * at the pinned version, the catalog's CRDs, the hand-written Kustomize schemas), so
 * `npm run bench:validate` compares the two tools on the same rules and never needs
 * kubeconform's web default, which fails offline.
 *
 *   npx tsx scripts/kubeconform/schemas.ts          # prints the folder
 *   kubeconform -strict -schema-location '<folder>/{{.ResourceKind}}{{.KindSuffix}}.json' files...
 *
 * One standalone file a kind, named as kubeconform's `{{.ResourceKind}}{{.KindSuffix}}` names it
 * (`deployment-apps-v1.json`, `service-v1.json`, `servicemonitor-monitoring-v1.json`): the kind's
 * schema with every definition it reaches under `definitions`, draft-07 like ajv's (kubeconform
 * reads a schema without `$schema` as draft-04). The folder lives in the cache
 * (<cache>/kubeconform/schemas/<hash of the sources and the conversion>), written once.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inputsHash, reachable, sourcesHash, strictKinds } from '../build-schemas';
import { cacheDir, type Fetched, fetchAll } from '../crds/fetch';

type Json = any;

/** The location template to pass to `kubeconform -schema-location`, for a folder of these files. */
export const LOCATION_TEMPLATE = '{{.ResourceKind}}{{.KindSuffix}}.json';

/**
 * The file name kubeconform looks up for a kind (pkg/registry/registry.go of v0.7.0): the kind in
 * lower case, the first label of the API group, the version.
 *
 * @example kubeconformFileName('monitoring.coreos.com/v1', 'ServiceMonitor') // 'servicemonitor-monitoring-v1.json'
 */
export function kubeconformFileName(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.split('/');
  const suffix = `-${group.split('.')[0].toLowerCase()}${version === undefined ? '' : `-${version.toLowerCase()}`}`;
  return `${kind.toLowerCase()}${suffix}.json`;
}

/** A JSON pointer token (RFC 6901). */
const pointerToken = (id: string) => id.replace(/~/g, '~0').replace(/\//g, '~1');

/** `$ref: "<id>#"` between definitions becomes a reference into the file's own `definitions`. */
function localRefs(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(localRefs);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$ref' && typeof v === 'string') out[k] = `#/definitions/${pointerToken(v.replace(/#$/, ''))}`;
    // Field names (a CRD's JSONSchemaProps has fields called `$ref`, `default` and `enum`) are not keywords.
    else if (k === 'properties' || k === 'patternProperties' || k === 'definitions') out[k] = Object.fromEntries(Object.entries(v as Json).map(([p, sub]) => [p, localRefs(sub)]));
    else if (k === 'enum' || k === 'required' || k === 'const' || k === 'default' || k === 'example' || k === 'examples') out[k] = v;
    else out[k] = localRefs(v);
  }
  return out;
}

/**
 * One standalone schema a kind, by kubeconform file name. Throws when two kinds would share a file
 * name (kubeconform could not tell them apart).
 */
export function kubeconformSchemas(fetched: Fetched): Map<string, { key: string; schema: Json }> {
  const { defs, kinds } = strictKinds(fetched);
  const files = new Map<string, { key: string; schema: Json }>();
  for (const [key, { id }] of Object.entries(kinds).sort(([a], [b]) => a.localeCompare(b))) {
    const kind = key.slice(key.lastIndexOf('/') + 1);
    const name = kubeconformFileName(key.slice(0, key.lastIndexOf('/')), kind);
    const other = files.get(name);
    if (other) throw new Error(`${other.key} and ${key} both map to kubeconform's ${name}`);
    const definitions = Object.fromEntries([...reachable(defs, [id])].sort().map((d) => [d, localRefs(defs[d])]));
    files.set(name, { key, schema: { $schema: 'http://json-schema.org/draft-07/schema#', $ref: `#/definitions/${pointerToken(id)}`, definitions } });
  }
  return files;
}

/**
 * The folder of kubeconform schemas for the fetched sources, written on first use. Its name is a
 * hash of the sources and the conversion, so new sources or new code make a new folder.
 */
export function kubeconformSchemaDir(options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): string {
  const fetched = fetchAll(options);
  const here = fs.readFileSync(__filename, 'utf8');
  const hash = createHash('sha256').update(`${inputsHash()}\n${sourcesHash(fetched)}\n${here}`).digest('hex').slice(0, 16);
  const dir = path.join(cacheDir(options.env), 'kubeconform', 'schemas', hash);
  if (fs.existsSync(path.join(dir, '.complete'))) return dir;
  const partial = `${dir}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const files = kubeconformSchemas(fetched);
  for (const [name, { schema }] of files) fs.writeFileSync(path.join(partial, name), JSON.stringify(schema));
  fs.writeFileSync(path.join(partial, '.complete'), `${files.size} kinds\n`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(partial, dir);
  options.log?.(`kubeconform schemas: ${files.size} kinds in ${dir}`);
  return dir;
}

if (require.main === module) console.log(kubeconformSchemaDir({ log: (line) => console.error(line) }));
