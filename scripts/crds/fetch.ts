/**
 * Downloads every CRD the catalog pins (tools/homelab/src/component/catalog.ts, `crdSources()`) and the
 * Kubernetes OpenAPI v3 documents, each at its pinned version, from the Go module proxy into a cache
 * outside the repository, and prints the CRD folder:
 *
 *   npx tsx scripts/crds/fetch.ts          # prints <cache>/crds; each project in <cache>/crds/<project>-<version>/
 *
 * <cache> is $HOMELAB_CACHE_DIR, else $XDG_CACHE_HOME/homelab, else ~/.cache/homelab. The OpenAPI
 * documents go to <cache>/openapi/kubernetes-<version>/. A folder is complete once it holds
 * `.complete`; complete folders are never fetched again, so a second run takes well under a second.
 * Needs Go (`go` on PATH, $GO, or /usr/local/go/bin/go) and the module proxy; `go mod download`
 * fetches a module's files even where its code does not build. Used by scripts/build-schemas.ts and
 * by the API-server tests, which install the CRDs.
 *
 * cert-manager ships its CRDs as Helm templates whose only templated values are labels (the rest is
 * in comments): they are replaced by cert-manager's own static-manifest values, and a `{{` left
 * outside a comment is an error rather than a guess.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type CrdSource, crdSources } from '../../tools/homelab/src/component/catalog';

/**
 * The Kubernetes release the core schemas follow: the one the control plane of the API-server
 * tests runs (scripts/control-plane/versions.env, one pin for both).
 */
export const KUBERNETES = {
  module: 'k8s.io/kubernetes',
  version: pinnedKubernetesVersion(),
  path: 'api/openapi-spec/v3',
} as const;

function pinnedKubernetesVersion(): string {
  const file = path.join(__dirname, '../control-plane/versions.env');
  const version = /^KUBERNETES_VERSION=(v\d+\.\d+\.\d+)\s*$/m.exec(fs.readFileSync(file, 'utf8'))?.[1];
  if (!version) throw new Error(`${file}: no KUBERNETES_VERSION=vX.Y.Z line`);
  return version;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HOMELAB_CACHE_DIR) return path.resolve(env.HOMELAB_CACHE_DIR);
  return path.join(env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache'), 'homelab');
}

/** The folder of one project's CRDs in the cache. */
export function crdDir(source: Pick<CrdSource, 'project' | 'version'>, cache = cacheDir()): string {
  return path.join(cache, 'crds', `${source.project}-${source.version}`);
}

export function openapiDir(cache = cacheDir()): string {
  return path.join(cache, 'openapi', `kubernetes-${KUBERNETES.version}`);
}

const COMPLETE = '.complete';

export function isComplete(dir: string): boolean {
  return fs.existsSync(path.join(dir, COMPLETE));
}

/** A one-line failure of this script (printed without a stack trace). */
export class FetchError extends Error {}

/** The Go binary: $GO, `go` on PATH, or the standard install location; null when there is none. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.GO) return env.GO;
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0) return 'go';
  const standard = '/usr/local/go/bin/go';
  return fs.existsSync(standard) ? standard : null;
}

function goBinary(env: NodeJS.ProcessEnv): string {
  const go = findGo(env);
  if (!go) throw new FetchError('Go is not installed (no `go` on PATH, no $GO); install Go 1.22 or later to fetch CRDs from the Go module proxy');
  return go;
}

/** `go mod download -json module@version`: the module's folder in Go's module cache. */
function goModDownload(go: string, module: string, version: string): string {
  const result = spawnSync(go, ['mod', 'download', '-json', `${module}@${version}`], {
    // Outside any module, so the repository's own files never matter; no toolchain switch.
    cwd: os.tmpdir(),
    env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  let info: { Dir?: string; Error?: string } = {};
  try {
    info = JSON.parse(result.stdout);
  } catch {
    // go printed no JSON: its stderr says why.
  }
  if (result.status !== 0 || !info.Dir) {
    const why = (info.Error ?? result.stderr ?? '').trim().split('\n').pop();
    throw new FetchError(`go mod download ${module}@${version} failed: ${why}; check the version in tools/homelab/src/component/catalog.ts and that the Go module proxy serves it`);
  }
  return info.Dir;
}

/** The YAML files a source names: each listed file, and every *.yaml/*.yml of each listed folder (kustomizations left out). */
function sourceFiles(moduleDir: string, source: CrdSource): string[] {
  return source.paths.flatMap((p) => {
    const abs = path.join(moduleDir, p);
    if (!fs.existsSync(abs)) throw new FetchError(`${source.module}@${source.version} has no ${p}; fix crdSources of ${source.project} in tools/homelab/src/component/catalog.ts`);
    if (fs.statSync(abs).isFile()) return [abs];
    return fs
      .readdirSync(abs)
      .filter((f) => /\.ya?ml$/.test(f) && !/^kustomization\.ya?ml$/.test(f))
      .sort()
      .map((f) => path.join(abs, f));
  });
}

/**
 * cert-manager's CRD templates with their templated labels replaced by the values of its static
 * manifests. Everything else templated sits in YAML comments, which are kept as they are.
 */
export function untemplateCertManager(text: string, file: string): string {
  const out = text
    .replace(/'\{\{ template "cert-manager\.name" \. \}\}'/g, 'cert-manager')
    .replace(/'\{\{ \.Release\.Name \}\}'/g, 'cert-manager');
  out.split('\n').forEach((line, i) => {
    const code = line.replace(/(^|\s)#.*$/, '');
    if (code.includes('{{')) throw new FetchError(`${file}:${i + 1}: a Helm template outside a comment that the fetch does not know (${line.trim()}); render it with Helm or extend untemplateCertManager`);
  });
  return out;
}

/** Writes a folder through a temporary sibling and a rename, so a folder is either complete or absent. */
function writeFolder(dir: string, fill: (tmp: string) => void): void {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  const tmp = fs.mkdtempSync(`${dir}.tmp-`);
  try {
    fill(tmp);
    fs.writeFileSync(path.join(tmp, COMPLETE), '');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export interface Fetched {
  cache: string;
  crds: string;
  openapi: string;
  /** Each source with its folder in the cache. */
  sources: (CrdSource & { dir: string })[];
}

/**
 * Fetches the CRDs of `sources` that are not in the cache yet; returns each source with its folder.
 * Needs Go only for a source not cached yet.
 */
export function fetchSources(sources: CrdSource[], options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): (CrdSource & { dir: string })[] {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const cache = cacheDir(env);
  let go: string | undefined;
  return sources.map((source) => {
    const dir = crdDir(source, cache);
    if (!isComplete(dir)) {
      log(`fetching ${source.module}@${source.version}`);
      const moduleDir = goModDownload((go ??= goBinary(env)), source.module, source.version);
      writeFolder(dir, (tmp) => {
        for (const file of sourceFiles(moduleDir, source)) {
          const text = fs.readFileSync(file, 'utf8');
          const name = path.basename(file).replace(/\.yml$/, '.yaml');
          fs.writeFileSync(path.join(tmp, name), source.helmTemplated ? untemplateCertManager(text, `${source.module}@${source.version}/${path.relative(moduleDir, file)}`) : text);
        }
      });
    }
    return { ...source, dir };
  });
}

/** Fetches what is not in the cache yet (every CRD source of the catalog, the Kubernetes OpenAPI); returns where everything is. */
export function fetchAll(options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {}): Fetched {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => undefined);
  const cache = cacheDir(env);
  const sources = fetchSources(crdSources(), options);
  const openapi = openapiDir(cache);
  if (!isComplete(openapi)) {
    log(`fetching ${KUBERNETES.module}@${KUBERNETES.version} (${KUBERNETES.path})`);
    const moduleDir = goModDownload(goBinary(env), KUBERNETES.module, KUBERNETES.version);
    writeFolder(openapi, (tmp) => {
      for (const f of fs.readdirSync(path.join(moduleDir, KUBERNETES.path)).filter((n) => n.endsWith('.json'))) {
        fs.copyFileSync(path.join(moduleDir, KUBERNETES.path, f), path.join(tmp, f));
      }
    });
  }
  return { cache, crds: path.join(cache, 'crds'), openapi, sources };
}

if (require.main === module) {
  try {
    const fetched = fetchAll({ log: (line) => process.stderr.write(`${line}\n`) });
    process.stdout.write(`${fetched.crds}\n`);
  } catch (error) {
    if (!(error instanceof FetchError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  }
}
