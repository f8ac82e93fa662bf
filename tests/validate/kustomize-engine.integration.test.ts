/**
 * kustomize-batch (tools/homelab/engines/kustomize-batch; docs/validate.md, "How overlays are
 * built") gives, for every overlay, exactly what the real `kubectl kustomize <overlay>` prints: its
 * stdout byte for byte, or for a failing overlay kubectl's error line. Held to kubectl on every
 * fixture workspace the batch tests use (tests/support/kustomize-fixtures.ts) and on overlays made
 * to fail or to take the paths kubectl's options decide (load restrictions, sortOptions, build
 * metadata, a custom OpenAPI schema). validate's findings with it are those with
 * HOMELAB_KUSTOMIZE=kubectl.
 *
 * The program is built by `npm run setup:engines` (scripts/kustomize-batch/build.sh): without it
 * these tests are skipped outside CI and FAIL under CI=true, like the other engines.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateApp } from '../../tools/homelab/src/app/generate';
import { diskHost } from '../../tools/homelab/src/host';
import { toolEnv } from '../../tools/homelab/src/tool-env';
import { findKustomizeBatch, inputLine, kustomizeBatchPath, kustomizeBatchVersion, nextFrame, streamKustomizeBatch, type BatchFrame } from '../../tools/homelab/src/validate/kustomize-engine';
import { findBatchProgram, kustomize, prerender, renderedFor, type RenderJob } from '../../tools/homelab/src/validate/kustomize-compose';
import { projectRenderJobs, validateProject } from '../../tools/homelab/src/validate/project';
import { parseYaml } from '../../tools/homelab/src/validate/source';
import { fixtureWorkspace, KUSTOMIZE_FIXTURE_COUNT, kustomizeFixtureWorkspaces, overlaysOf } from '../support/kustomize-fixtures';
import { requireTool } from '../support/tools';
import { makeTempDir, removeDir } from '../support/workspace';

const BUILD = path.join(__dirname, '../../scripts/kustomize-batch/build.sh');
const kubectl = requireTool('kubectl');
const program = requireTool('kustomize-batch', ['bash', BUILD, '--check']);

const roots: string[] = [];
const saved = { ...process.env };
afterAll(() => roots.forEach(removeDir));
afterEach(() => {
  for (const name of ['HOMELAB_KUSTOMIZE', 'HOMELAB_CACHE_DIR']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** The header klog puts before each line kubectl logs (`E1130 11:53:05.598214   19955 run.go:72] `). */
const KLOG_HEADER = /^[EWI]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ [^\]]+\] /gm;

/** What kubectl gives for one overlay, as a frame: stdout when it succeeds, else stderr without klog's header. */
function kubectlFrame(dir: string, cwd: string): BatchFrame {
  const r = spawnSync('kubectl', ['kustomize', dir], { cwd, env: toolEnv(), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status === 0) return { ok: true, text: r.stdout };
  return { ok: false, text: r.stderr.replace(KLOG_HEADER, '') };
}

/** kubectlFrame of each overlay, two kubectl processes at a time. */
async function kubectlFrames(dirs: string[], cwd: string): Promise<BatchFrame[]> {
  const frames: BatchFrame[] = new Array(dirs.length);
  let next = 0;
  const one = (dir: string) =>
    new Promise<BatchFrame>((resolve) => {
      const child = spawn('kubectl', ['kustomize', dir], { cwd, env: toolEnv() });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('close', (status) =>
        resolve(status === 0 ? { ok: true, text: Buffer.concat(out).toString('utf8') } : { ok: false, text: Buffer.concat(err).toString('utf8').replace(KLOG_HEADER, '') }),
      );
    });
  await Promise.all(
    [0, 1].map(async () => {
      for (let i = next++; i < dirs.length; i = next++) frames[i] = await one(dirs[i]);
    }),
  );
  return frames;
}

async function programFrames(dirs: string[], cwd: string): Promise<BatchFrame[]> {
  const frames = await runKustomizeBatch(kustomizeBatchPath(), dirs, cwd, toolEnv());
  expect(frames, 'kustomize-batch ran to the end').not.toBeNull();
  return frames!;
}

/** A whole output split into `count` frames by nextFrame; null when it does not hold exactly that many well-formed frames. */
function parseFrames(output: Buffer, count: number): BatchFrame[] | null {
  const frames: BatchFrame[] = [];
  for (let rest = output; rest.length > 0; ) {
    const next = nextFrame(rest);
    if (typeof next === 'string') return null;
    frames.push(next.frame);
    rest = next.rest;
  }
  return frames.length === count ? frames : null;
}

/** Every frame of a run of the program, or null when it did not run to its end cleanly with one frame per overlay. */
async function runKustomizeBatch(bin: string, dirs: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<BatchFrame[] | null> {
  const frames: BatchFrame[] = [];
  const { delivered, clean } = await streamKustomizeBatch(bin, dirs, cwd, env, (_, frame) => frames.push(frame));
  return clean && delivered === dirs.length ? frames : null;
}

/** Characters Go's YAML 1.1 (kubectl's output) writes as line breaks, which js-yaml's YAML 1.2 reads back otherwise. */
const GO_BREAKS = /[\u0085\u2028\u2029]/;
let breaksSeen = 0;

/**
 * Where the objects of --json and those js-yaml reads from kubectl's YAML differ: [] when equal.
 * A string holding a Go line break is the one known difference: kustomize's JSON holds the string
 * it built, while js-yaml folds those characters of the YAML text into spaces and line breaks;
 * there the two must agree on everything but whitespace and those characters.
 */
function sameObjects(json: unknown, yaml: unknown, at = '$'): string[] {
  if (typeof json === 'string' && GO_BREAKS.test(json) && typeof yaml === 'string') {
    breaksSeen++;
    const bare = (t: string) => t.replace(/[\s\u0085\u2028\u2029]/g, '');
    return bare(json) === bare(yaml) ? [] : [`${at}: ${JSON.stringify(json)} vs ${JSON.stringify(yaml)}`];
  }
  if (Array.isArray(json) && Array.isArray(yaml)) {
    if (json.length !== yaml.length) return [`${at}: ${json.length} vs ${yaml.length} items`];
    return json.flatMap((v, i) => sameObjects(v, yaml[i], `${at}[${i}]`));
  }
  if (json && yaml && typeof json === 'object' && typeof yaml === 'object' && !Array.isArray(json) && !Array.isArray(yaml)) {
    const keys = Object.keys(json);
    if (keys.join('\0') !== Object.keys(yaml).join('\0')) return [`${at}: keys ${keys.join(',')} vs ${Object.keys(yaml).join(',')}`];
    return keys.flatMap((k) => sameObjects((json as Record<string, unknown>)[k], (yaml as Record<string, unknown>)[k], `${at}.${k}`));
  }
  return Object.is(json, yaml) ? [] : [`${at}: ${JSON.stringify(json)} vs ${JSON.stringify(yaml)}`];
}

const jobsOf = (root: string, dirs: string[]): RenderJob[] => dirs.map((dir) => ({ kind: 'kustomize', dir, cwd: root }));

/** A kustomization folder `dir` of `root` with these files. */
function writeFolder(root: string, dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, dir, name)), { recursive: true });
    fs.writeFileSync(path.join(root, dir, name), text);
  }
  return dir;
}

const CONFIGMAP = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n`;

describe('the frames of kustomize-batch', () => {
  it('splits ok and error frames by their byte lengths, whatever the text holds', () => {
    const body = 'a: "é"\nok 3\n';
    const output = Buffer.from(`ok ${Buffer.byteLength(body)}\n${body}error 5\nbad\n\nok 0\n`);

    expect(parseFrames(output, 3)).toEqual([
      { ok: true, text: body },
      { ok: false, text: 'bad\n\n' },
      { ok: true, text: '' },
    ]);
  });

  it.each([
    ['fewer frames than overlays', 'ok 0\n', 2],
    ['a frame longer than the output', 'ok 10\nabc', 1],
    ['an unknown header', 'warning 0\n', 1],
    ['text after the last frame', 'ok 0\nstray', 1],
  ])('refuses %s (the caller falls back to kubectl)', (_, output, count) => {
    expect(parseFrames(Buffer.from(output), count)).toBeNull();
  });

  it('reads a frame from its first bytes on, and says when more must come first', () => {
    const frame = Buffer.from('error 4\nbad\nok 0\n');
    expect(nextFrame(frame)).toEqual({ frame: { ok: false, text: 'bad\n' }, rest: Buffer.from('ok 0\n') });
    for (let cut = 0; cut < 'error 4\nbad\n'.length; cut++) expect(nextFrame(frame.subarray(0, cut)), `${cut} bytes`).toBe('more');
    expect(nextFrame(Buffer.from('warning 0\n'))).toBe('bad');
    expect(nextFrame(Buffer.from('x'.repeat(40)))).toBe('bad');
  });

  it('hands over frames whose headers and bodies arrive in pieces', async () => {
    const dir = makeTempDir('kb-pieces');
    roots.push(dir);
    const bin = path.join(dir, 'kustomize-batch');
    fs.writeFileSync(bin, "#!/bin/sh\ncat >/dev/null\nprintf 'o'; sleep 0.2; printf 'k 5\\nab'; sleep 0.2; printf 'cde'; sleep 0.2; printf 'err'; sleep 0.2; printf 'or 0\\n'\n", { mode: 0o755 });
    const frames: BatchFrame[] = [];

    const result = await streamKustomizeBatch(bin, ['a', 'b'], process.cwd(), toolEnv(), (_, frame) => frames.push(frame));

    expect(frames).toEqual([
      { ok: true, text: 'abcde' },
      { ok: false, text: '' },
    ]);
    expect(result).toEqual({ delivered: 2, clean: true });
  });

  it.each([
    ['applications/kubernetes/overlays/dev/a', 'applications/kubernetes/overlays/dev/a'],
    ['"quoted"', '"\\"quoted\\""'],
    [' padded', '" padded"'],
    ['two\nlines', '"two\\nlines"'],
    ['', '""'],
  ])('writes the path %j as the input line %s', (dir, line) => {
    expect(inputLine(dir)).toBe(line);
  });

  /**
   * A stand-in program (a shell script): it writes the first frame, then waits until the test has
   * received that frame (it writes `seen`), then writes the rest as `rest` says. Only a caller that
   * hands frames over as they come lets it go on: one that waits for the end would see it give up.
   */
  function standIn(rest: string): { bin: string; seen: string } {
    const dir = makeTempDir('kb-stand-in');
    roots.push(dir);
    const seen = path.join(dir, 'seen');
    const bin = path.join(dir, 'kustomize-batch');
    fs.writeFileSync(
      bin,
      `#!/bin/sh\ncat >/dev/null\nprintf 'ok 4\\na: 1'\nfor i in $(seq 100); do [ -e '${seen}' ] && break; sleep 0.1; done\n[ -e '${seen}' ] || exit 3\n${rest}\n`,
      { mode: 0o755 },
    );
    return { bin, seen };
  }

  it('hands each frame over as soon as the program has written it, before the program ends', async () => {
    const { bin, seen } = standIn("printf 'error 4\\nbad\\n'");
    const frames: [number, BatchFrame][] = [];

    const result = await streamKustomizeBatch(bin, ['a', 'b'], process.cwd(), toolEnv(), (i, frame) => {
      frames.push([i, frame]);
      if (i === 0) fs.writeFileSync(seen, '');
    });

    expect(frames).toEqual([
      [0, { ok: true, text: 'a: 1' }],
      [1, { ok: false, text: 'bad\n' }],
    ]);
    expect(result).toEqual({ delivered: 2, clean: true });
  });

  it('says how many frames it handed over when the program dies after some, and that it did not end cleanly', async () => {
    const { bin, seen } = standIn("printf 'ok 9\\npartial'\nexit 1");
    const frames: BatchFrame[] = [];

    const result = await streamKustomizeBatch(bin, ['a', 'b'], process.cwd(), toolEnv(), (i, frame) => {
      frames.push(frame);
      if (i === 0) fs.writeFileSync(seen, '');
    });

    // The second frame was cut short: it is not handed over, and runKustomizeBatch gives none.
    expect(frames).toEqual([{ ok: true, text: 'a: 1' }]);
    expect(result).toEqual({ delivered: 1, clean: false });
    // Every frame written, then a non-zero exit: runKustomizeBatch, which wants the whole run, gives none.
    const dies = standIn('exit 1');
    fs.writeFileSync(dies.seen, '');
    expect(await runKustomizeBatch(dies.bin, ['a'], process.cwd(), toolEnv())).toBeNull();
  });

  it('gives no frames when the program cannot start, so the caller builds with kubectl', async () => {
    expect(await runKustomizeBatch(path.join(makeTempDir('kb-nobin'), 'kustomize-batch'), ['a'], process.cwd(), toolEnv())).toBeNull();
  });
});

// Each test runs kubectl once per overlay: minutes on a busy machine.
describe.skipIf(kubectl.skip || program.skip)('kustomize-batch against kubectl kustomize', { timeout: 600_000 }, () => {
  let cases: { id: string; root: string }[] = [];
  beforeAll(() => {
    cases = kustomizeFixtureWorkspaces(roots, 'kb-engine');
  }, 600_000);

  it('is found where scripts/kustomize-batch/build.sh built it, and validate uses it', () => {
    const built = spawnSync('bash', [BUILD, '--check'], { encoding: 'utf8' });
    expect(built.stdout.trim()).toBe(kustomizeBatchPath());
    expect(findBatchProgram()).toEqual({ bin: kustomizeBatchPath() });
  });

  it('stands aside when kubectl embeds another kustomize release, or under HOMELAB_KUSTOMIZE=kubectl', () => {
    const linked = kustomizeBatchVersion();
    expect(linked).toMatch(/^v\d+\.\d+\.\d+$/);
    expect(spawnSync(kustomizeBatchPath(), ['--version'], { encoding: 'utf8' }).stdout).toBe(`${linked}\n`);
    expect(findKustomizeBatch(linked!)).toEqual({ bin: kustomizeBatchPath() });
    expect(findKustomizeBatch('v5.7.1')).toEqual({ bin: null, reason: `kustomize-batch links kustomize ${linked}, kubectl has v5.7.1` });
    expect(findKustomizeBatch(undefined).bin).toBeNull();
    expect(findKustomizeBatch(linked!, { ...process.env, HOMELAB_KUSTOMIZE: 'kubectl' })).toEqual({ bin: null, reason: 'HOMELAB_KUSTOMIZE=kubectl' });
  });

  it('prints every overlay of every fixture workspace byte for byte as kubectl kustomize does', async () => {
    expect(cases.length).toBe(KUSTOMIZE_FIXTURE_COUNT);
    for (const { id, root } of cases) {
      const dirs = overlaysOf(root);
      expect(dirs.length, id).toBeGreaterThan(0);
      const frames = await programFrames(dirs, root);
      const expected = await kubectlFrames(dirs, root);
      dirs.forEach((dir, i) => expect(frames[i], `${id}: ${dir}`).toEqual(expected[i]));
      expect(frames.every((f) => f.ok), id).toBe(true);
    }
  });

  it('with --json gives, for every overlay of every fixture workspace, the objects of the YAML kubectl prints, as validate reads them', async () => {
    for (const { id, root } of cases) {
      const dirs = overlaysOf(root);
      const frames: BatchFrame[] = [];
      const { delivered, clean } = await streamKustomizeBatch(kustomizeBatchPath(), dirs, root, toolEnv(), (_, frame) => frames.push(frame), { json: true });
      expect({ delivered, clean }, id).toEqual({ delivered: dirs.length, clean: true });
      const expected = await kubectlFrames(dirs, root);
      dirs.forEach((dir, i) => {
        expect(frames[i].ok, `${id}: ${dir}`).toBe(true);
        const fromYaml = parseYaml(expected[i].text, dir);
        expect('docs' in fromYaml && fromYaml.docs.length, `${id}: ${dir} has objects`).toBeGreaterThan(0);
        expect(sameObjects(JSON.parse(frames[i].text), 'docs' in fromYaml ? fromYaml.docs : fromYaml), `${id}: ${dir}`).toEqual([]);
      });
    }
    // The fixtures hold such a string (HOSTILE_STRINGS), so the exception below is exercised.
    expect(breaksSeen).toBeGreaterThan(0);
  });

  it('fails, builds or orders each odd overlay as kubectl does, and keeps each failure to its overlay', async () => {
    const root = fixtureWorkspace(roots, 'kb-engine-odd', (r) => generateApp(diskHost(r), { name: 'alpha', image: 'traefik/whoami:v1.10.4', port: 8080 }));
    const dirs = [
      'applications/kubernetes/overlays/dev/alpha',
      writeFolder(root, 'odd/missing-resource', { 'kustomization.yaml': 'resources:\n  - missing.yaml\n' }),
      writeFolder(root, 'odd/bad-yaml', { 'kustomization.yaml': 'resources: [cm.yaml\n' }),
      writeFolder(root, 'odd/unknown-field', { 'kustomization.yaml': 'resources:\n  - cm.yaml\nresourcez: []\n', 'cm.yaml': CONFIGMAP('a') }),
      // RootOnly: a file outside the kustomization's folder is refused.
      writeFolder(root, 'odd/outside-root', { 'kustomization.yaml': 'resources:\n  - ../shared/cm.yaml\n' }),
      writeFolder(root, 'odd/shared', { 'cm.yaml': CONFIGMAP('shared') }),
      writeFolder(root, 'odd/duplicate', { 'kustomization.yaml': 'resources:\n  - a.yaml\n  - b.yaml\n', 'a.yaml': CONFIGMAP('same'), 'b.yaml': CONFIGMAP('same') }),
      writeFolder(root, 'odd/fifo', {
        'kustomization.yaml': 'sortOptions:\n  order: fifo\nresources:\n  - z.yaml\n  - ns.yaml\n',
        'z.yaml': CONFIGMAP('z'),
        'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: zz\n',
      }),
      writeFolder(root, 'odd/legacy', { 'kustomization.yaml': 'resources:\n  - z.yaml\n  - ns.yaml\n', 'z.yaml': CONFIGMAP('z'), 'ns.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: zz\n' }),
      writeFolder(root, 'odd/metadata', { 'kustomization.yaml': 'buildMetadata: [originAnnotations, transformerAnnotations, managedByLabel]\nnamePrefix: p-\nresources:\n  - cm.yaml\n', 'cm.yaml': CONFIGMAP('m') }),
      // A kustomization that names its own OpenAPI schema version: built with it, and the next overlay without it.
      writeFolder(root, 'odd/openapi', { 'kustomization.yaml': 'openapi:\n  version: v1.21.2\nresources:\n  - cm.yaml\n', 'cm.yaml': CONFIGMAP('o') }),
      writeFolder(root, 'odd/openapi-unknown', { 'kustomization.yaml': 'openapi:\n  version: v0.0.1\nresources:\n  - cm.yaml\n', 'cm.yaml': CONFIGMAP('o') }),
      writeFolder(root, 'odd/"quoted" name', { 'kustomization.yaml': 'resources:\n  - cm.yaml\n', 'cm.yaml': CONFIGMAP('q') }),
      writeFolder(root, 'odd/empty', { 'kustomization.yaml': 'resources: []\n' }),
      'odd/no-such-folder',
      'applications/kubernetes/overlays/prod/alpha',
    ];
    const frames = await programFrames(dirs, root);
    const expected = await kubectlFrames(dirs, root);

    dirs.forEach((dir, i) => expect(frames[i], dir).toEqual(expected[i]));
    // The fixture does what it says: these fail with kubectl too, and the others build.
    const failed = dirs.filter((_, i) => !expected[i].ok);
    expect(failed).toEqual(['odd/missing-resource', 'odd/bad-yaml', 'odd/unknown-field', 'odd/outside-root', 'odd/shared', 'odd/duplicate', 'odd/openapi-unknown', 'odd/no-such-folder']);
    expect(frames[dirs.indexOf('odd/fifo')].text.indexOf('kind: ConfigMap')).toBeLessThan(frames[dirs.indexOf('odd/fifo')].text.indexOf('kind: Namespace'));
    expect(frames[dirs.indexOf('odd/legacy')].text.indexOf('kind: Namespace')).toBeLessThan(frames[dirs.indexOf('odd/legacy')].text.indexOf('kind: ConfigMap'));
  });

  it('builds the same overlays concurrently in any order with the same results', async () => {
    const { root } = cases[0];
    const dirs = overlaysOf(root).slice(0, 12);
    const twice = [...dirs, ...[...dirs].reverse()];
    const frames = await programFrames(twice, root);
    const alone = await kubectlFrames(dirs, root);

    expect(frames).toEqual([...alone, ...[...alone].reverse()]);
  });

  it("gives validate the same findings as HOMELAB_KUSTOMIZE=kubectl, a broken overlay's render/kustomize included", async () => {
    const projects = ['alpha', 'beta', 'gamma'];
    const root = fixtureWorkspace(roots, 'kb-engine-findings', (r) => {
      for (const name of projects) generateApp(diskHost(r), { name, image: 'traefik/whoami:v1.10.4', port: 8080 });
    });
    const broken = 'applications/kubernetes/overlays/dev/beta/kustomization.yaml';
    fs.appendFileSync(path.join(root, broken), 'patches:\n  - path: missing-patch.yaml\n');
    const jobs = projects.flatMap((p) => projectRenderJobs(root, 'applications', p));

    process.env.HOMELAB_KUSTOMIZE = 'kubectl';
    const kubectlStats = await prerender(jobs);
    const withKubectl = projects.map((p) => validateProject(root, 'applications', p));
    delete process.env.HOMELAB_KUSTOMIZE;
    const programStats = await prerender(jobs);
    const withProgram = projects.map((p) => validateProject(root, 'applications', p));

    expect(withProgram).toEqual(withKubectl);
    expect(withKubectl[1].map((f) => `${f.file} ${f.rule}`)).toContain(`${broken} render/kustomize`);
    const overlays = jobs.filter((j) => j.kind === 'kustomize').length;
    expect(kubectlStats.program).toBe(0);
    expect(programStats).toMatchObject({ program: overlays, batchProcesses: 0, batched: 0, alone: [] });
  });

  it('gives validate the same findings as HOMELAB_KUSTOMIZE=kubectl on every fixture workspace (JSON frames against kubectl\'s YAML), the real stacks and hostile strings included', async () => {
    let compared = 0;
    for (const { id, root } of cases) {
      const projects = fs.readdirSync(path.join(root, 'applications/specs')).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length));
      const jobs = projects.flatMap((p) => projectRenderJobs(root, 'applications', p));
      process.env.HOMELAB_KUSTOMIZE = 'kubectl';
      await prerender(jobs);
      const withKubectl = projects.map((p) => validateProject(root, 'applications', p));
      delete process.env.HOMELAB_KUSTOMIZE;
      const stats = await prerender(jobs);
      const withProgram = projects.map((p) => validateProject(root, 'applications', p));
      expect(stats.program, id).toBe(jobs.filter((j) => j.kind === 'kustomize').length);
      expect(withProgram, id).toEqual(withKubectl);
      compared += projects.length;
    }
    expect(compared).toBeGreaterThan(KUSTOMIZE_FIXTURE_COUNT);
  });

  it("lets a project's check start once its own overlays are built, and builds only the overlays the program did not deliver with kubectl", async () => {
    // A stand-in for the program that delivers the first overlay, waits until the caller has it,
    // then dies: the first overlay keeps the program's frame, the others are built by kubectl.
    const cache = makeTempDir('kb-engine-cache');
    roots.push(cache);
    process.env.HOMELAB_CACHE_DIR = cache;
    const bin = kustomizeBatchPath();
    const seen = path.join(cache, 'seen');
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    fs.writeFileSync(bin, `#!/bin/sh\ncat >/dev/null\nprintf 'ok 13\\nfrom: program'\nfor i in $(seq 100); do [ -e '${seen}' ] && break; sleep 0.1; done\nexit 1\n`, { mode: 0o755 });
    const { root } = cases[0];
    const dirs = overlaysOf(root).slice(0, 4);
    const jobs = jobsOf(root, dirs);

    const running = prerender(jobs);
    await renderedFor(jobs.slice(0, 1));
    const first = kustomize(dirs[0], root);
    fs.writeFileSync(seen, '');
    const stats = await running;

    // Asked for JSON (--json), the stand-in answers YAML: validate reads a body that is not a JSON array as YAML (engine.ts renderedObjects).
    expect(first).toEqual({ ok: true, output: 'from: program', json: true });
    expect(stats.program).toBe(1);
    expect(stats.batched + stats.alone.length).toBe(dirs.length - 1);
    for (const dir of dirs.slice(1)) expect(kustomize(dir, root), dir).toEqual({ ok: true, output: kubectlFrame(dir, root).text });
  });

  it('falls back to the aggregate kubectl builds when the program at its path does not run to the end', async () => {
    // A stand-in for a broken build of the program (it exits 1 at once): the only way to make the
    // real program fail to run is to break its build.
    const cache = makeTempDir('kb-engine-cache');
    roots.push(cache);
    process.env.HOMELAB_CACHE_DIR = cache;
    const bin = kustomizeBatchPath();
    fs.mkdirSync(path.dirname(bin), { recursive: true });
    fs.writeFileSync(bin, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const { root } = cases[0];
    const dirs = overlaysOf(root).slice(0, 8);

    expect(findBatchProgram()).toEqual({ bin });
    const stats = await prerender(jobsOf(root, dirs));
    const results = dirs.map((dir) => kustomize(dir, root));

    expect(stats.program).toBe(0);
    expect(stats.batched + stats.alone.length).toBe(dirs.length);
    dirs.forEach((dir, i) => {
      const expected = kubectlFrame(dir, root);
      expect(results[i], dir).toEqual({ ok: true, output: expected.text });
    });
  });
});
