/**
 * The app schema's patterns (tools/homelab/schemas/app.schema.json) for the values an import
 * carries: a value that fails one is listed (or refused) by the mapper, with the field named,
 * rather than left for the schema to refuse the whole spec.
 */

/** An absolute path a spec takes (mount paths, host paths, the working directory). */
export const ABSOLUTE_PATH = /^\/[A-Za-z0-9_./@+-]{0,254}$/;
/** A lower-case fully qualified host name (ingress hosts, extra hosts). */
export const HOSTNAME = /^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
