/**
 * Turns an OpenAPI v3 schema (Kubernetes flavour: kubernetes-models definitions, a CRD's
 * openAPIV3Schema) into a strict, plain JSON schema for ajv, the way `kubeconform -strict`
 * reads schemas: an object that lists `properties` and says nothing else about other keys
 * accepts no other key.
 *
 * - `x-kubernetes-preserve-unknown-fields: true` keeps that object open;
 * - `x-kubernetes-int-or-string` and `oneOf` of bare types (IntOrString, Quantity) become a type list;
 * - `nullable: true` and `oneOf: [X, {type: null}]` become a `null` type (objects accept null, as
 *   the API server does: a null field is an omitted field);
 * - `format` and `description` are dropped (formats are not checked, like kubectl).
 */
type Json = any;

const isNullType = (s: Json) => s && typeof s === 'object' && s.type === 'null' && Object.keys(s).length === 1;

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
  for (const key of Object.keys(s)) if (key.startsWith('x-kubernetes-')) delete s[key];
  if (Array.isArray(s.oneOf)) {
    const rest = s.oneOf.filter((x: Json) => !isNullType(x));
    if (rest.length === 1 && rest.length < s.oneOf.length) {
      const { oneOf: _drop, ...others } = s;
      s = { ...others, ...rest[0] };
    } else if (s.oneOf.every((x: Json) => x && typeof x.type === 'string' && Object.keys(x).every((k) => k === 'type' || k === 'format'))) {
      const { oneOf, ...others } = s;
      s = { ...others, type: [...new Set(oneOf.map((x: Json) => x.type))] };
    }
  }
  delete s.format;
  delete s.description;
  if (s.nullable === true && typeof s.type === 'string') s.type = [s.type, 'null'];
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
