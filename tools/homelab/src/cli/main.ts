import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { runInWorker } from '../deploy/launch';
import { resolveRequest } from '../deploy/request';
import { HomelabError, InputError, show } from '../errors';
import { addCrdSchemas } from '../validate/crd';
import { ALL_CHECKS, type CheckClass } from '../validate/engine';
import { formatJson, formatPretty, formatSarif } from '../validate/findings';
import { findWorkspaceRoot, projectFiles, type ValidatePathsOptions, type ValidateResult, validatePaths, validatePathsPrerendered } from '../validate/paths';
import { ClusterDryRun } from '../validate/server';
import { formatStatusJson, formatStatusTable, statusReasons } from '../status/format';
import { statusHtmlTarget, writeStatusHtml } from '../status/html';
import { readStatus } from '../status/index';
import { diskHost } from '../host';
import { readWorkspace } from '../app/plan';
import { pinnedImages, scanSeverity } from '../workspace/images';
import { PLATFORM_PROJECT } from '../validate/classify';

// Worker threads of `validate` (validate/parallel.ts) load the code this process runs, the CLI bundle included, and start here.
export { validateWorker } from '../validate/parallel';

/** The plugin's version, as its package.json (and tools/homelab/migrations.json) says. */
const VERSION: string = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')).version;

const USAGE = `Usage:
  homelab validate [paths…] [--format pretty|json|sarif] [--skip CHECKS] [--only CHECKS] [--max-file-size MiB]
                   [--workspace DIR] [--server-dry-run] [--projects a,b]
  homelab images [--projects a,b] [--format lines|json] [--workspace DIR]
  homelab schemas add <crd.yaml>… [--workspace DIR]
  homelab restore-drill <app> --env ENV [--keep] [--scratch-size SIZE] [--workspace DIR]
  homelab status [--env ENV] [--format table|json] [--require-deployed] [--html FILE] [--workspace DIR]

validate checks files and folders (default: .) — Kubernetes manifests, kustomize folders, Compose
files, app specs — offline and strict. CHECKS is a comma list of ${ALL_CHECKS.join(', ')}.
--server-dry-run also sends every rendered overlay of the workspace to the cluster KUBECONFIG
points at (server-side apply, --dry-run=server: nothing is stored; never cached).
--projects validates those projects of the workspace (apps, components, ${PLATFORM_PROJECT}) instead of
paths, as their Nx validate targets do; an empty list validates nothing (for \`nx show projects --affected\`).
Exit codes: 0 clean (warnings allowed), 1 errors found, 2 usage or internal error.
Rules and options: docs/validate.md

images lists every image the projects' specs pin (all projects without --projects), each once:
one a line, or with --format json {"severity", "images"}, the severity being homelab.yaml's
ci.scan.severity (default high), what the CI image scan fails on (README "CI").

restore-drill takes a backup of a deployed app now, restores it into a scratch Compose project
isolated from the live one, starts the app there and checks it (docs/backup.md); --keep leaves the
scratch project, --scratch-size restores into tmpfs volumes of that size (e.g. 512m).
Exit codes: 0 passed, 1 a step failed, 2 usage error.

status shows every app and component in every environment (or ENV): the version git wants and the
one running, health, drift (what runs differs from what git renders, hand changes included), the
last deploy (when, from which commit) and the last successful backup, read from the platforms, so
it works from any machine that reaches them (docs/deploy.md, "Status"). A project never deployed
to an environment is an error only with --require-deployed. --html FILE also writes the report as
one static HTML page (its folder must exist).
Exit codes: 0 everything deployed is healthy and in step, 1 otherwise (each reason on stderr),
2 usage error.`;

interface Io {
  cwd: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Parses `--name value` / `--name=value` options, `--flag` flags (value 'true') and positional arguments. */
function parseArgs(args: string[], known: string[], flags: string[] = []): { positional: string[]; options: Record<string, string> } {
  const positional: string[] = [];
  const options: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    if (flags.includes(name)) {
      if (eq !== -1) throw new InputError(`--${name} takes no value; write \`--${name}\` alone`);
      options[name] = 'true';
      continue;
    }
    if (!known.includes(name)) throw new InputError(`unknown option --${name}; see \`homelab --help\``);
    const value = eq === -1 ? args[++i] : a.slice(eq + 1);
    if (value === undefined) throw new InputError(`--${name} needs a value; see \`homelab --help\``);
    options[name] = value;
  }
  return { positional, options };
}

function checksOf(list: string | undefined, flag: string): CheckClass[] {
  if (list === undefined) return [];
  const items = list.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!(ALL_CHECKS as readonly string[]).includes(item)) throw new InputError(`${flag} ${item}: not a check; use ${ALL_CHECKS.join(', ')}`);
  }
  return items as CheckClass[];
}

/** `homelab validate`, each project's overlays built by its own kustomize process (main: tests, and callers that cannot wait). */
function validateCommand(args: string[], io: Io): number {
  const request = validateRequest(args, io);
  return typeof request === 'number' ? request : validateReport(validatePaths(request.paths, request.options), request.format, io);
}

/** `homelab validate` as the command runs it: every project's overlays built first in one kustomize-batch (validatePathsPrerendered). */
async function validateCommandAsync(args: string[], io: Io): Promise<number> {
  const request = validateRequest(args, io);
  return typeof request === 'number' ? request : validateReport(await validatePathsPrerendered(request.paths, request.options), request.format, io);
}

/** The paths and options of a `homelab validate` command line, or its exit code when there is nothing to check. */
function validateRequest(args: string[], io: Io): { paths: string[]; options: ValidatePathsOptions; format: string } | number {
  const { positional, options } = parseArgs(args, ['format', 'skip', 'only', 'max-file-size', 'workspace', 'projects'], ['server-dry-run']);
  const format = options.format ?? 'pretty';
  if (!['pretty', 'json', 'sarif'].includes(format)) throw new InputError(`--format ${format}: use pretty, json or sarif`);
  const only = checksOf(options.only, '--only');
  const skip = checksOf(options.skip, '--skip');
  const checks = new Set((only.length ? only : ALL_CHECKS).filter((c) => !skip.includes(c)));
  let maxFileBytes: number | undefined;
  if (options['max-file-size'] !== undefined) {
    const mib = Number(options['max-file-size']);
    if (!(mib > 0)) throw new InputError(`--max-file-size ${options['max-file-size']}: give a size in MiB, e.g. 16`);
    maxFileBytes = mib * 1024 * 1024;
  }
  const workspaceRoot = options.workspace ? path.resolve(io.cwd, options.workspace) : undefined;
  let server: ClusterDryRun | { unreachable: string } | undefined;
  if (options['server-dry-run']) {
    const root = workspaceRoot ?? findWorkspaceRoot(io.cwd);
    if (!root) throw new InputError('--server-dry-run sends the overlays of a homelab workspace: run it inside one (no homelab.yaml here or above) or pass --workspace DIR');
    if (!checks.has('render')) throw new InputError('--server-dry-run sends the rendered overlays, so it needs the render check: drop render from --skip (or add it to --only)');
    server = ClusterDryRun.connect(root);
  }
  let paths = positional;
  if (options.projects !== undefined) {
    if (positional.length > 0) throw new InputError(`validate takes paths or --projects, not both; drop ${show(positional[0])} or --projects`);
    const root = workspaceRoot ?? findWorkspaceRoot(io.cwd);
    if (!root) throw new InputError('--projects names projects of a homelab workspace: run it inside one (no homelab.yaml here or above) or pass --workspace DIR');
    paths = projectFiles(root, projectList(options.projects)).map((file) => path.relative(io.cwd, path.join(root, file)) || '.');
    // No project affected: nothing to check, and an empty report (not the whole folder, which no paths would mean).
    if (paths.length === 0) {
      io.out(format === 'json' ? formatJson([], { files: 0, documents: 0 }) : format === 'sarif' ? formatSarif([], VERSION) : formatPretty([], { files: 0, documents: 0 }));
      return 0;
    }
  }
  return { paths, options: { cwd: io.cwd, checks, maxFileBytes, workspaceRoot, server }, format };
}

/** Prints a validate result in its format; the exit code: 1 when a finding is an error. */
function validateReport(result: ValidateResult, format: string, io: Io): number {
  const text =
    format === 'json' ? formatJson(result.findings, result) : format === 'sarif' ? formatSarif(result.findings, VERSION) : formatPretty(result.findings, result);
  io.out(text);
  return result.findings.some((f) => f.severity === 'error') ? 1 : 0;
}

/** A `--projects` value: names separated by commas or white space; empty for none. */
function projectList(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

/** `homelab images`: the images the projects' specs pin, for the users' CI image scan (workspace/images.ts). */
function imagesCommand(args: string[], io: Io): number {
  const { positional, options } = parseArgs(args, ['projects', 'format', 'workspace']);
  if (positional.length > 0) throw new InputError(`images takes no paths (${show(positional[0])}); name projects with --projects a,b`);
  const format = options.format ?? 'lines';
  if (!['lines', 'json'].includes(format)) throw new InputError(`--format ${format}: use lines or json`);
  const root = options.workspace ? path.resolve(io.cwd, options.workspace) : findWorkspaceRoot(io.cwd);
  if (!root) throw new InputError('images reads the specs of a homelab workspace: run it inside one (no homelab.yaml here or above) or pass --workspace DIR');
  const host = diskHost(root);
  const images = pinnedImages(host, options.projects === undefined ? undefined : projectList(options.projects)).map((i) => i.image);
  if (format === 'json') io.out(`${JSON.stringify({ severity: scanSeverity(readWorkspace(host)), images })}\n`);
  else io.out(images.map((image) => `${image}\n`).join(''));
  return 0;
}

function schemasCommand(args: string[], io: Io): number {
  const [sub, ...rest] = args;
  if (sub !== 'add') throw new InputError(`schemas ${sub ?? ''}: the only subcommand is \`homelab schemas add <crd.yaml>\``);
  const { positional, options } = parseArgs(rest, ['workspace']);
  if (positional.length === 0) throw new InputError('schemas add needs a CRD file: `homelab schemas add <crd.yaml>`');
  const root = options.workspace ? path.resolve(io.cwd, options.workspace) : findWorkspaceRoot(io.cwd);
  if (!root) throw new InputError('no homelab.yaml here or above; run it inside the workspace or pass --workspace DIR');
  for (const written of addCrdSchemas(positional.map((file) => ({ abs: path.resolve(io.cwd, file), label: file })), root)) io.out(`wrote ${written}\n`);
  return 0;
}

/**
 * `homelab restore-drill <app> --env <env>`: what `nx run <app>:restore-drill` runs, without Nx
 * (the deploy worker, under the app's deploy lock). Returns the drill's exit code.
 */
async function restoreDrillCommand(args: string[], io: Io): Promise<number> {
  const { positional, options } = parseArgs(args, ['env', 'scratch-size', 'workspace'], ['keep']);
  const [app, ...extra] = positional;
  if (!app || extra.length > 0) throw new InputError('restore-drill takes one app: `homelab restore-drill <app> --env <env>`');
  const root = options.workspace ? path.resolve(io.cwd, options.workspace) : findWorkspaceRoot(io.cwd);
  if (!root) throw new InputError('no homelab.yaml here or above; run it inside the workspace or pass --workspace DIR');
  if (!fs.existsSync(path.join(root, 'applications/specs', `${app}.yaml`))) {
    throw new InputError(`restore-drill ${show(app)}: no app of that name (applications/specs/${app}.yaml); name an app of the workspace`);
  }
  const request = resolveRequest(root, app, { layer: 'applications', env: options.env, platform: 'compose', keep: options.keep === 'true', scratchSize: options['scratch-size'] }, 'restore-drill');
  const write = (sink: (text: string) => void) => new Writable({ write: (chunk, _encoding, done) => (sink(String(chunk)), done()) });
  return runInWorker(request, { stdout: write(io.out), stderr: write(io.err) });
}

/**
 * `homelab status`: the report (status/index.ts) as a table or JSON on stdout; when it is not ok,
 * each reason on stderr, one line, and exit 1.
 */
async function statusCommand(args: string[], io: Io): Promise<number> {
  const { positional, options } = parseArgs(args, ['env', 'format', 'workspace', 'html'], ['require-deployed']);
  if (positional.length > 0) throw new InputError(`status takes no argument (${show(positional[0])}); to see one environment pass --env ENV`);
  const format = options.format ?? 'table';
  if (format !== 'table' && format !== 'json') throw new InputError(`--format ${show(format)}: use table or json`);
  const root = options.workspace ? path.resolve(io.cwd, options.workspace) : findWorkspaceRoot(io.cwd);
  if (!root) throw new InputError('no homelab.yaml here or above; run it inside the workspace or pass --workspace DIR');
  // A page path that cannot be written fails before the platforms are read.
  const page = options.html === undefined ? undefined : statusHtmlTarget(options.html, io.cwd);
  const report = await readStatus(root, { env: options.env, requireDeployed: options['require-deployed'] === 'true' });
  if (page !== undefined) writeStatusHtml(report, page);
  io.out(format === 'json' ? formatStatusJson(report) : formatStatusTable(report));
  if (report.ok) return 0;
  for (const reason of statusReasons(report)) io.err(`homelab: ${reason}\n`);
  return 1;
}

/**
 * The `homelab` command, with the commands that run in the background (restore-drill): the
 * exit code once they end. Errors are mapped as in `main`.
 */
export async function mainAsync(argv: string[], io: Io = { cwd: process.cwd(), out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  if (argv[0] !== 'restore-drill' && argv[0] !== 'status' && argv[0] !== 'validate') return main(argv, io);
  try {
    if (argv[0] === 'validate') return await validateCommandAsync(argv.slice(1), io);
    return argv[0] === 'status' ? await statusCommand(argv.slice(1), io) : await restoreDrillCommand(argv.slice(1), io);
  } catch (error) {
    if (error instanceof HomelabError) {
      io.err(`homelab: ${error.message}\n`);
      return error.exitCode;
    }
    io.err(`homelab: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 2;
  }
}

/**
 * The `homelab` command. Returns the exit code; the one place that maps errors to
 * messages: a HomelabError (a user mistake) is one line, anything else is an internal
 * error with its stack, exit 2.
 */
export function main(argv: string[], io: Io = { cwd: process.cwd(), out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): number {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.out(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    }
    if (command === '--version') {
      io.out(`${VERSION}\n`);
      return 0;
    }
    if (command === 'validate') return validateCommand(args, io);
    if (command === 'schemas') return schemasCommand(args, io);
    if (command === 'images') return imagesCommand(args, io);
    if (command === 'restore-drill' || command === 'status') throw new InputError(`${command} runs in the background: call mainAsync (bin/homelab.js does)`);
    throw new InputError(`unknown command "${command}"; use \`homelab validate\`, \`homelab images\`, \`homelab schemas add\`, \`homelab restore-drill\` or \`homelab status\` (see --help)`);
  } catch (error) {
    if (error instanceof HomelabError) {
      io.err(`homelab: ${error.message}\n`);
      return 2;
    }
    io.err(`homelab: internal error: ${(error as Error)?.stack ?? String(error)}\n`);
    return 2;
  }
}

if (require.main === module) {
  void mainAsync(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
