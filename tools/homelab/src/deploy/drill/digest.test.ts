import { describe, expect, it } from 'vitest';
import { dumpRowCounts, formatBytes, parseDigests } from './digest';

const HEX = 'ab'.repeat(32);

describe('parseDigests', () => {
  it('reads the digest line of each volume and ignores every other line', () => {
    const out = `restic backup done\nhomelab-backup digest data sha256=${HEX} files=42 bytes=12345\nhomelab-backup digest db sha256=${'cd'.repeat(32)} files=1 bytes=7\nsnapshot 1a2b saved\n`;
    expect([...parseDigests(out).values()]).toEqual([
      { volume: 'data', sha256: HEX, files: 42, bytes: 12345 },
      { volume: 'db', sha256: 'cd'.repeat(32), files: 1, bytes: 7 },
    ]);
  });

  it.each([
    ['a short hash', 'homelab-backup digest data sha256=abc files=1 bytes=1'],
    ['no byte count', `homelab-backup digest data sha256=${HEX} files=1`],
    ['another prefix', `backup digest data sha256=${HEX} files=1 bytes=1`],
  ])('does not read %s as a digest', (_what, line) => {
    expect(parseDigests(line).size).toBe(0);
  });
});

describe('dumpRowCounts', () => {
  it('counts the rows of each COPY block of pg_dumpall, per database', () => {
    const sql = [
      '\\connect template1',
      'SET x = 1;',
      '\\connect -reuse-previous=on "dbname=\'files\'"',
      'COPY public.items (id, name) FROM stdin;',
      '1\tone',
      '2\ttwo',
      '\\.',
      'COPY public.empty (id) FROM stdin;',
      '\\.',
      '\\connect postgres',
      'COPY public.notes (id) FROM stdin;',
      '1',
      '\\.',
    ].join('\n');
    expect(dumpRowCounts(sql)).toEqual(
      new Map([
        ['files.public.items', 2],
        ['files.public.empty', 0],
        ['postgres.public.notes', 1],
      ]),
    );
  });

  it('puts the tables of a pg_dump (no \\connect) in the database it is given', () => {
    expect(dumpRowCounts('COPY public.t (a) FROM stdin;\n1\n\\.\n', 'files_dev')).toEqual(new Map([['files_dev.public.t', 1]]));
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [12.3 * 1024 * 1024, '12.3 MiB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
