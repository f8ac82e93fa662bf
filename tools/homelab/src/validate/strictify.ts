/**
 * Turns an OpenAPI v3 schema (Kubernetes flavour: kubernetes-models definitions, a CRD's
 * openAPIV3Schema) into a strict, plain JSON schema for ajv, the way `kubeconform -strict`
 * reads schemas: an object that lists `properties` and says nothing else about other keys
 * accepts no other key.
 *
 * - `x-kubernetes-preserve-unknown-fields: true` keeps that object open;
 * - `x-kubernetes-int-or-string` and `oneOf` of bare types (IntOrString, Quantity) become a type list;
 * - `x-kubernetes-list-type: set` becomes `uniqueItems` (the API server refuses duplicates), and an
 *   `x-kubernetes-embedded-resource` object accepts the apiVersion, kind and metadata the API
 *   server accepts in it even where its schema does not list them;
 * - `nullable: true` and `oneOf: [X, {type: null}]` accept null (a `null` type, or `anyOf: [$ref, null]`
 *   for a reference; objects accept null too, as the API server does: a null field is an omitted field);
 * - OpenAPI's boolean `exclusiveMaximum`/`exclusiveMinimum` become JSON schema's numeric ones;
 * - `format` and `description` are dropped (formats are not checked, like kubectl).
 */
type Json = any;

const isNullType = (s: Json) => s && typeof s === 'object' && s.type === 'null' && Object.keys(s).length === 1;

/**
 * A schema that also accepts null. A `$ref` cannot take a sibling `type` (it would be ANDed
 * with the target), so it becomes `anyOf: [$ref, null]`: ObjectMeta's `creationTimestamp`
 * (`oneOf: [$ref Time, null]`) then accepts the `null` every `kubectl create --dry-run -o yaml`
 * writes, as the API server and kubeconform do.
 */
function orNull(schema: Json): Json {
  if (!schema || typeof schema !== 'object') return schema;
  if ('$ref' in schema) return { anyOf: [schema, { type: 'null' }] };
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  if (Array.isArray(schema.type) && !schema.type.includes('null')) return { ...schema, type: [...schema.type, 'null'] };
  return schema;
}

export function strictify(schema: Json): Json {
  if (Array.isArray(schema)) return schema.map(strictify);
  if (!schema || typeof schema !== 'object') return schema;
  let s: Json = { ...schema };
  const open = s['x-kubernetes-preserve-unknown-fields'] === true;
  if (s['x-kubernetes-int-or-string'] === true) {
    delete s.anyOf;
    delete s.oneOf;
    s.type = ['integer', 'string'];
  }
  if (s['x-kubernetes-list-type'] === 'set') s.uniqueItems = true;
  if (s['x-kubernetes-embedded-resource'] === true && s.properties && typeof s.properties === 'object') {
    s.properties = { apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { type: 'object' }, ...s.properties };
  }
  for (const key of Object.keys(s)) if (key.startsWith('x-kubernetes-')) delete s[key];
  if (Array.isArray(s.oneOf)) {
    const rest = s.oneOf.filter((x: Json) => !isNullType(x));
    if (rest.length === 1 && rest.length < s.oneOf.length) {
      const { oneOf: _drop, ...others } = s;
      s = { ...others, ...orNull(rest[0]) };
    } else if (s.oneOf.every((x: Json) => x && typeof x.type === 'string' && Object.keys(x).every((k) => k === 'type' || k === 'format'))) {
      const { oneOf, ...others } = s;
      s = { ...others, type: [...new Set(oneOf.map((x: Json) => x.type))] };
    }
  }
  delete s.format;
  delete s.description;
  // OpenAPI 3.0's boolean exclusiveMaximum/exclusiveMinimum qualify maximum/minimum; JSON schema's hold the bound.
  for (const [exclusive, bound] of [['exclusiveMaximum', 'maximum'], ['exclusiveMinimum', 'minimum']]) {
    if (typeof s[exclusive] !== 'boolean') continue;
    if (s[exclusive] && typeof s[bound] === 'number') {
      s[exclusive] = s[bound];
      delete s[bound];
    } else delete s[exclusive];
  }
  if (s.nullable === true) {
    delete s.nullable;
    s = orNull(s);
  }
  delete s.nullable;
  if (s.type === 'object' && !('$ref' in s)) s.type = ['object', 'null'];
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'properties' || k === 'patternProperties' || k === 'definitions' || k === '$defs') {
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([p, sub]) => [p, strictify(sub)]));
    } else if (k === 'enum' || k === 'required' || k === 'const' || k === 'default' || k === 'example' || k === 'examples') {
      out[k] = v;
    } else out[k] = strictify(v);
  }
  if (out.properties && out.additionalProperties === undefined && out.patternProperties === undefined) {
    out.additionalProperties = open;
  }
  return out;
}
