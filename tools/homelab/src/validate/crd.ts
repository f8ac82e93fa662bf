import * as fs from 'node:fs';
import * as path from 'node:path';
import jsyaml from 'js-yaml';
import { InputError } from '../errors';
import { isObj, list, type Obj } from './objects';
import { customSchemaPath } from './schemas';
import { strictify } from './strictify';

/**
 * `homelab schemas add <crd.yaml>`: converts each served version of each CustomResourceDefinition
 * in a file into a strict JSON schema under <workspace>/schemas/custom/<group>/<kind>_<version>.json,
 * which validation then uses for that kind (before any built-in schema). Returns the files written.
 */
export function addCrdSchemas(crdFile: string, workspaceRoot: string): string[] {
  let docs: unknown[];
  try {
    docs = jsyaml.loadAll(fs.readFileSync(crdFile, 'utf8'));
  } catch (error) {
    throw new InputError(`${crdFile}: ${(error as Error).message.split('\n')[0]}; pass a readable CRD YAML file`);
  }
  const crds = docs.filter((d): d is Obj => isObj(d) && d.kind === 'CustomResourceDefinition');
  if (crds.length === 0) throw new InputError(`${crdFile} holds no CustomResourceDefinition; pass the CRD manifest (kind: CustomResourceDefinition, apiextensions.k8s.io/v1)`);
  const written: string[] = [];
  for (const crd of crds) {
    const group = crd.spec?.group;
    const kind = crd.spec?.names?.kind;
    if (typeof group !== 'string' || typeof kind !== 'string') throw new InputError(`${crdFile}: CRD ${crd.metadata?.name ?? '?'} has no spec.group or spec.names.kind; is it apiextensions.k8s.io/v1?`);
    for (const version of list(crd.spec?.versions)) {
      if (version.served === false) continue;
      const schema = version.schema?.openAPIV3Schema;
      if (!isObj(schema)) throw new InputError(`${crdFile}: ${kind} ${version.name} has no schema.openAPIV3Schema; a CRD without a schema cannot be validated`);
      const apiVersion = `${group}/${version.name}`;
      const strict = strictify(schema);
      const out = {
        $comment: `${kind} (${apiVersion}) from CRD ${crd.metadata?.name ?? ''}, converted by \`homelab schemas add\`: strict (unknown fields are errors).`,
        ...strict,
        properties: {
          ...(strict.properties ?? {}),
          apiVersion: { type: 'string', enum: [apiVersion] },
          kind: { type: 'string', enum: [kind] },
          metadata: { type: ['object', 'null'] },
        },
        required: [...new Set(['apiVersion', 'kind', ...(Array.isArray(strict.required) ? strict.required : [])])],
        additionalProperties: false,
      };
      const rel = customSchemaPath(apiVersion, kind);
      const abs = path.join(workspaceRoot, rel);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, `${JSON.stringify(out, null, 2)}\n`);
      written.push(rel);
    }
  }
  return written;
}
