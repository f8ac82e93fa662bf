import * as fs from 'node:fs';
import * as path from 'node:path';
import Handlebars from 'handlebars';
import YAML from 'yaml';
import { RenderError } from '../errors';

/** The templates/ folder at the workspace root, shared by the Nx generators and plop. */
export const TEMPLATES_DIR = path.resolve(__dirname, '../../../../templates');

/** Who owns a rendered file: the spec (rewritten on sync, drift is reported) or the user (scaffolded once). */
export type Owner = 'spec' | 'user';

export interface RenderedFile {
  /** Path relative to the workspace root, always with '/'. */
  path: string;
  content: string;
  owner: Owner;
}

const scalarOptions: YAML.ToStringOptions = { lineWidth: 0, minContentWidth: 0, blockQuote: false };

/**
 * Emits one YAML scalar (string, number, boolean or null) that parses back to exactly
 * the same value: quoting, escapes and multi-line strings are the yaml library's job,
 * never string concatenation's.
 * @example yamlScalar('yes') // '"yes"'
 */
export function yamlScalar(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    throw new RenderError(`yaml helper got an object; use yamlFlow for lists and maps`);
  }
  if (value === undefined) throw new RenderError('yaml helper got undefined; the normalized spec misses a value');
  return YAML.stringify(value, scalarOptions).trimEnd();
}

/** Emits a list or map in YAML flow style on one line, e.g. ["CMD", "wget"]. */
export function yamlFlow(value: unknown): string {
  if (value === undefined) throw new RenderError('yamlFlow helper got undefined; the normalized spec misses a value');
  const doc = new YAML.Document(value);
  if (YAML.isCollection(doc.contents)) doc.contents.flow = true;
  return doc.toString({ ...scalarOptions, flowCollectionPadding: false }).trimEnd();
}

/**
 * Emits a multi-line string as a YAML literal block (`|`) whose lines are indented by
 * `indent` spaces, for embedded JSON or Markdown. Strings a literal block cannot hold
 * exactly (control characters, a trailing space on a line, CR) fall back to a quoted scalar.
 */
export function yamlBlock(value: unknown, indent: number): string {
  if (typeof value !== 'string') throw new RenderError('yamlBlock helper needs a string');
  // The indentation indicator is relative to the parent node, which a helper cannot see:
  // a first line that starts with white space falls back to a quoted scalar too.
  if (!value.includes('\n') || /^[ \t]|[\x00-\x08\x0b-\x1f\x7f\u0085\u2028\u2029\ufeff]|[ \t]\n/.test(value)) {
    return yamlScalar(value);
  }
  const body = value.replace(/\n+$/, '');
  const trailing = value.length - body.length;
  const chomp = trailing === 0 ? '-' : trailing === 1 ? '' : '+';
  const pad = ' '.repeat(indent);
  const lines = value.slice(0, trailing > 1 ? value.length - 1 : body.length).split('\n');
  return `|${chomp}\n${lines.map((l) => (l === '' ? '' : pad + l)).join('\n')}`;
}

let instance: typeof Handlebars | undefined;

/** The one Handlebars environment: strict (a missing value throws), no HTML escaping, YAML helpers. */
export function handlebars(): typeof Handlebars {
  if (instance) return instance;
  const hb = Handlebars.create();
  hb.registerHelper('yaml', (value: unknown) => yamlScalar(value));
  hb.registerHelper('yamlFlow', (value: unknown) => yamlFlow(value));
  hb.registerHelper('yamlBlock', (value: unknown, indent: unknown) => yamlBlock(value, Number(indent)));
  hb.registerHelper('join', (list: unknown, sep: unknown) => {
    if (!Array.isArray(list)) throw new RenderError('join helper needs a list');
    return list.join(String(sep));
  });
  instance = hb;
  return hb;
}

const compiledTemplates = new Map<string, Handlebars.TemplateDelegate>();

/** Renders templates/<template>.hbs with a context; a missing value in strict mode is a RenderError. */
export function renderTemplate(template: string, context: unknown, templatesDir = TEMPLATES_DIR): string {
  const file = path.join(templatesDir, `${template}.hbs`);
  let compiled = compiledTemplates.get(file);
  if (!compiled) {
    let source: string;
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch {
      throw new RenderError(`template ${template}.hbs is missing from ${path.relative(process.cwd(), templatesDir) || '.'}; restore it from git`);
    }
    compiled = handlebars().compile(source, { strict: true, noEscape: true });
    compiledTemplates.set(file, compiled);
  }
  try {
    return compiled(context);
  } catch (error) {
    throw new RenderError(`template ${template}.hbs failed: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** Parses a rendered YAML file back; any syntax error or warning is a RenderError naming the file. */
export function assertParsesBack(file: string, content: string): unknown[] {
  const docs = YAML.parseAllDocuments(content, { uniqueKeys: true, prettyErrors: false });
  if (!Array.isArray(docs)) {
    throw new RenderError(`${file}: rendered YAML is empty in an unexpected way`);
  }
  for (const doc of docs) {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw new RenderError(`${file}: rendered YAML does not parse back (${problem.message.split('\n')[0]})`);
  }
  return docs.map((d) => d.toJS());
}
