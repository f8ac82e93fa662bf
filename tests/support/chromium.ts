import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as zlib from 'node:zlib';
import { requireTool, type ToolRequirement } from './tools';

/**
 * Headless Chromium for the tests that open a page in a real browser: Debian's `chromium` package,
 * which `npm run setup:engines` installs. The one place the tests find it: `HOMELAB_CHROMIUM`
 * when set, else `chromium`, else `chromium-browser` on PATH.
 */
export function chromiumBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HOMELAB_CHROMIUM) return env.HOMELAB_CHROMIUM;
  for (const name of ['chromium', 'chromium-browser']) {
    if (spawnSync(name, ['--version'], { stdio: 'ignore', timeout: 30_000 }).status === 0) return name;
  }
  return 'chromium';
}

/** requireTool for Chromium: skipped with the reason locally when missing, a failure under CI. */
export function requireChromium(env: NodeJS.ProcessEnv = process.env): ToolRequirement & { binary: string } {
  const binary = chromiumBinary(env);
  return { ...requireTool('chromium', [binary, '--version'], env, { timeout: 60_000 }), binary };
}

/**
 * The flags every run takes. As root (as here and in CI containers) Chromium refuses to start
 * without --no-sandbox. No network at all: the pages have no URL, and should one slip in, names
 * resolve to nothing and every request goes to a closed loopback port.
 */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--metrics-recording-only',
  '--mute-audio',
  '--hide-scrollbars',
  '--force-device-scale-factor=1',
  '--host-resolver-rules=MAP * ~NOTFOUND',
  '--proxy-server=127.0.0.1:9',
];

/** Runs headless Chromium on a local file with a fresh profile in a temporary folder, removed after. */
function runChromium(binary: string, file: string, args: string[]): { stdout: string; stderr: string } {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-chromium-'));
  try {
    const result = spawnSync(binary, [...FLAGS, `--user-data-dir=${profile}`, ...args, pathToFileURL(file).href], {
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.error) throw result.error;
    if (result.status !== 0) throw new Error(`${binary} ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
    return { stdout: result.stdout, stderr: result.stderr };
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM as Chromium parsed it (`--dump-dom`), serialized back to HTML. */
export function dumpDom(binary: string, file: string): string {
  return runChromium(binary, file, ['--dump-dom']).stdout;
}

/** A PNG screenshot of the page's first screen at width × height CSS pixels (`--screenshot`). */
export function screenshot(binary: string, file: string, png: string, width: number, height: number): Buffer {
  runChromium(binary, file, [`--window-size=${width},${height}`, `--screenshot=${png}`]);
  return fs.readFileSync(png);
}

export interface Png {
  width: number;
  height: number;
  /** How many distinct colours its pixels have (counting stops at `limit`). */
  colours: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Reads a PNG of 8-bit RGB or RGBA (what Chromium writes), non-interlaced: its size and how many
 * colours it has. Throws on anything else, so a file that is not such a PNG fails the test.
 */
export function readPng(data: Buffer, limit = 16): Png {
  if (!data.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG: the signature is missing');
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < data.length) {
    const length = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colourType, , , interlace] = body.subarray(8, 13);
      if (depth !== 8 || (colourType !== 2 && colourType !== 6) || interlace !== 0) {
        throw new Error(`PNG of depth ${depth}, colour type ${colourType}, interlace ${interlace}: only 8-bit RGB/RGBA, non-interlaced, is read here`);
      }
      channels = colourType === 2 ? 3 : 4;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  if (!channels) throw new Error('not a PNG: no IHDR chunk');
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error(`PNG data is ${raw.length} bytes; ${width}x${height} needs ${height * (stride + 1)}`);
  const colours = new Set<string>();
  let previous = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? line[x - channels] : 0;
      const b = previous[x];
      const c = x >= channels ? previous[x - channels] : 0;
      const add = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
      if (filter > 4) throw new Error(`PNG line ${y} has filter ${filter}`);
      line[x] = (line[x] + add) & 0xff;
    }
    for (let x = 0; x < stride && colours.size < limit; x += channels) colours.add(line.toString('hex', x, x + channels));
    previous = line;
  }
  return { width, height, colours: colours.size };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ', amp: '&' };

/** The text of an HTML fragment as it reads: block tags and <br> as spaces, inline tags dropped, entities decoded, white space collapsed. */
export function textOf(html: string): string {
  return html
    .replace(/<br\s*\/?>|<\/?(?:p|div|ul|ol|li|details|summary|table|thead|tbody|tr|td|th|section|header|h[1-6])\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(lt|gt|quot|#39|nbsp|amp);/g, (_m, e: string) => ENTITIES[e])
    .replace(/\s+/g, ' ')
    .trim();
}

/** The body rows of every table of a serialized DOM, each as its cells' text keyed by the cell's data-label. */
export function tableRows(dom: string): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  for (const body of dom.matchAll(/<tbody>([\s\S]*?)<\/tbody>/g)) {
    for (const tr of body[1].matchAll(/<tr\b[^>]*>([\s\S]*?)<\/tr>/g)) {
      const cells: Record<string, string> = {};
      for (const td of tr[1].matchAll(/<td\b[^>]*data-label="([^"]*)"[^>]*>([\s\S]*?)<\/td>/g)) cells[td[1]] = textOf(td[2]);
      rows.push(cells);
    }
  }
  return rows;
}
