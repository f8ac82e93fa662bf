/**
 * Mutated YAML texts for the tests that hold a fast reader to the yaml package: each one of the
 * base texts with one to three edits of its lines (a line dropped, doubled or indented, a character
 * of `noise` put in or swapped for one), from a seeded generator so a failure repeats.
 */
export function* yamlMutations(base: readonly string[], count: number, seed: number, noise: readonly string[]): Generator<string> {
  let state = seed;
  const next = (n: number) => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % n);
  for (let i = 0; i < count; i++) {
    const lines = base[next(base.length)].split('\n');
    for (let edits = 1 + next(3); edits > 0; edits--) {
      const at = next(lines.length);
      const kind = next(4);
      if (kind === 0) lines.splice(at, 1);
      else if (kind === 1) lines.splice(at, 0, lines[at] ?? '');
      else if (kind === 2) lines[at] = `  ${lines[at] ?? ''}`;
      else {
        const line = lines[at] ?? '';
        const pos = next(line.length + 1);
        lines[at] = line.slice(0, pos) + noise[next(noise.length)] + line.slice(pos + next(2));
      }
    }
    yield lines.join('\n');
  }
}
