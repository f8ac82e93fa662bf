import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBytes, parseYaml, readAhead, readText } from './source';
import { inValidateRun } from './run-memo';

describe('parseYaml', () => {
  const override = 'services:\n  web:\n    network_mode: host\n    networks: !reset {}\n    ports: !override ["127.0.0.1:8080:80"]\n    command: !reset null\n';

  it("reads Compose's merge tags in a Compose file as the value under the tag", () => {
    const parsed = parseYaml(override, 'compose.override.yaml', true);

    expect(parsed).toMatchObject({ docs: [{ services: { web: { network_mode: 'host', networks: {}, ports: ['127.0.0.1:8080:80'], command: null } } }] });
  });

  it('refuses them anywhere else, at their line', () => {
    expect(parseYaml(override, 'deployment.yaml')).toMatchObject({ rule: 'parse/syntax', line: 4, message: expect.stringContaining('unknown tag !<!reset>') });
  });
});

describe('readText with the bytes a project check has read (FileBytes)', () => {
  const made: string[] = [];
  const dir = () => {
    made.push(fs.mkdtempSync(path.join(os.tmpdir(), 'homelab-bytes-')));
    return made[made.length - 1];
  };
  afterAll(() => {
    for (const d of made) fs.rmSync(d, { recursive: true, force: true });
  });

  it("takes the bytes a run read ahead of the project's check (its Compose files, for their merges) instead of reading the file again", () => {
    const file = path.join(dir(), 'compose.yaml');
    fs.writeFileSync(file, 'name: a\n');
    inValidateRun(() => {
      expect(readAhead(file)).toBe('name: a\n');
      // Changed on disk after the merge read it: the check parses what the merge read.
      fs.writeFileSync(file, 'name: b\n');
      const bytes = new FileBytes();
      expect(readText(file, 'compose.yaml', undefined, bytes)).toBe('name: a\n');
      expect(bytes.text(file)).toBe('name: a\n');
      // Handed over once: the next project's check reads the disk.
      expect(new FileBytes().text(file)).toBe('name: b\n');
    });
    // Outside a run nothing is kept.
    fs.writeFileSync(file, 'name: c\n');
    expect(readAhead(file)).toBe('name: c\n');
    fs.writeFileSync(file, 'name: d\n');
    expect(new FileBytes().text(file)).toBe('name: d\n');
  });

  it('reads a file once: a second reader gets the bytes of the first read, not the disk', () => {
    const file = path.join(dir(), 'a.yaml');
    fs.writeFileSync(file, 'a: 1\n');
    const bytes = new FileBytes();
    expect(String(bytes.read(file))).toBe('a: 1\n');
    // Changed on disk after the first read: what the check compared is what it parses.
    fs.writeFileSync(file, 'a: 2\n');
    expect(readText(file, 'a.yaml', undefined, bytes)).toBe('a: 1\n');
    expect(readText(file, 'a.yaml')).toBe('a: 2\n');
  });

  it('gives the findings a read from disk gives: unreadable with its code, too large, not UTF-8, binary', () => {
    const root = dir();
    const write = (name: string, data: string | Buffer) => {
      fs.writeFileSync(path.join(root, name), data);
      return path.join(root, name);
    };
    const files = [path.join(root, 'missing.yaml'), write('large.yaml', 'x'.repeat(64)), write('latin1.yaml', Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a])), write('binary.yaml', Buffer.from([0x61, 0x00]))];
    const bytes = new FileBytes();
    for (const file of files) {
      bytes.read(file);
      const label = path.basename(file);
      const fromBytes = readText(file, label, 32, bytes);
      expect(fromBytes).toEqual(readText(file, label, 32));
      expect(fromBytes).toMatchObject({ rule: expect.stringMatching(/^parse\//) });
    }
    expect(readText(files[0], 'missing.yaml', 32, bytes)).toMatchObject({ rule: 'parse/unreadable', message: expect.stringContaining('ENOENT') });
    expect(readText(files[1], 'large.yaml', 32, bytes)).toMatchObject({ rule: 'parse/too-large' });
  });

  it('gives the text the disk host reads, or null for a file that cannot be read', () => {
    const root = dir();
    fs.writeFileSync(path.join(root, 'c.yaml'), Buffer.from([0x63, 0x3a, 0x20, 0xe9, 0x0a]));
    const bytes = new FileBytes();
    expect(bytes.text(path.join(root, 'c.yaml'))).toBe(fs.readFileSync(path.join(root, 'c.yaml'), 'utf8'));
    expect(bytes.text(path.join(root, 'missing.yaml'))).toBeNull();
  });

  it('reads from disk a file the project check has not read', () => {
    const file = path.join(dir(), 'b.yaml');
    fs.writeFileSync(file, 'b: 1\n');
    const bytes = new FileBytes();
    expect(readText(file, 'b.yaml', undefined, bytes)).toBe('b: 1\n');
    expect(bytes.peek(file)).toBeUndefined();
  });
});
