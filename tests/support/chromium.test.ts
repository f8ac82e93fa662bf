import * as zlib from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chromiumBinary, readPng, requireChromium, tableRows, textOf } from './chromium';

/** A PNG of 8-bit RGB written by hand: one filter byte per line (each line uses `filter`), then the pixels. */
function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number], filter = 0): Buffer {
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, body, Buffer.alloc(4)]); // the CRC is not checked by readPng
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const lines: number[] = [];
  for (let y = 0; y < height; y++) {
    lines.push(filter);
    for (let x = 0; x < width; x++) {
      const here = pixel(x, y);
      // Filter 1 (Sub) stores each byte minus the byte of the pixel to its left.
      const left = filter === 1 && x > 0 ? pixel(x - 1, y) : [0, 0, 0];
      lines.push(...here.map((v, i) => (v - left[i] + 256) & 0xff));
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.from(lines))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('readPng', () => {
  it('reads the size and finds a blank image has one colour', () => {
    expect(readPng(png(7, 3, () => [255, 255, 255]))).toEqual({ width: 7, height: 3, colours: 1 });
  });

  it('counts the colours of the pixels, not of the filtered bytes', () => {
    const stripes = (x: number): [number, number, number] => (x % 2 ? [10, 20, 30] : [200, 100, 50]);

    expect(readPng(png(6, 2, stripes, 1)).colours).toBe(2);
    // A uniform image under the Sub filter is all zero bytes after the first pixel: still one colour.
    expect(readPng(png(6, 2, () => [9, 9, 9], 1)).colours).toBe(1);
  });

  it('refuses what is not a PNG', () => {
    expect(() => readPng(Buffer.from('GIF89a'))).toThrow('not a PNG');
  });
});

describe('the DOM reading helpers', () => {
  it('decodes each entity once, so escaped markup stays text', () => {
    expect(textOf('<b>a</b> &amp;lt;b&amp;gt; &lt;i&gt;  &quot;x&#39;')).toBe(`a &lt;b&gt; <i> "x'`);
  });

  it('reads inline tags as nothing and block tags as a space', () => {
    expect(textOf('<p>at <time>12:00</time>; <code>abc</code>.</p><ul><li>one</li><li>two<br>three</li></ul>')).toBe('at 12:00; abc. one two three');
  });

  it('reads each body row as its cells keyed by data-label', () => {
    const dom = '<table><thead><tr><th>A</th></tr></thead><tbody><tr class="x"><td data-label="A"><div>one</div></td><td data-label="B">t&lt;wo</td></tr></tbody></table>';

    expect(tableRows(dom)).toEqual([{ A: 'one', B: 't<wo' }]);
  });
});

describe('finding Chromium', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('takes HOMELAB_CHROMIUM first', () => {
    expect(chromiumBinary({ HOMELAB_CHROMIUM: '/opt/other/chrome' })).toBe('/opt/other/chrome');
  });

  it('fails under CI when the Chromium it finds does not run, and skips with the reason otherwise', () => {
    const missing = { HOMELAB_CHROMIUM: 'homelab-no-such-chromium-7f3a' };
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);

    expect(() => requireChromium({ ...missing, CI: 'true' })).toThrow(/^chromium is not available .*CI never skips these tests\.$/);
    expect(requireChromium(missing)).toMatchObject({ skip: true, binary: 'homelab-no-such-chromium-7f3a' });
  });
});
