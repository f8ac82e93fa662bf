/**
 * The corpus conventions of `npm run bench:import` (scripts/lib/import-check.ts): which folders
 * are stacks, the app name of a folder, what EXPECT-REFUSAL asks, and the verdicts the pass rate
 * counts, on stacks written into a temp corpus (real import, nx, kubectl and docker compose).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appNameOf, checkStack, corpusStacks, expectedRefusal, stackLine } from '../../scripts/lib/import-check';
import { createTempWorkspace, writeFiles } from '../../scripts/lib/temp-workspace';
import { requireTool } from '../support/tools';
import { makeTempDir, removeDir } from '../support/workspace';

const compose = requireTool('docker compose');
const kubectl = requireTool('kubectl');
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

/** A corpus of these stack folders (folder → files). */
function corpus(stacks: Record<string, Record<string, string>>): string {
  const dir = makeTempDir('import-corpus');
  dirs.push(dir);
  for (const [stack, files] of Object.entries(stacks)) {
    fs.mkdirSync(path.join(dir, stack), { recursive: true });
    writeFiles(path.join(dir, stack), files);
  }
  return dir;
}

/** One service that starts as homelab's defaults do, so the stack imports with nothing to list. */
const WEB = 'services:\n  web:\n    image: homelab-test/busybox:1\n    user: "1000:1000"\n    read_only: true\n    cap_drop: [ALL]\n    command: ["httpd", "-f", "-p", "127.0.0.1:8080"]\n';

describe('the corpus conventions of bench:import', () => {
  it('takes every folder with a Compose file under any of its four names for a stack, and no other', () => {
    const dir = corpus({
      a: { 'compose.yaml': WEB },
      b: { 'compose.yml': WEB },
      c: { 'docker-compose.yaml': WEB },
      d: { 'docker-compose.yml': WEB },
      notes: { 'README.md': 'not a stack' },
    });
    expect(corpusStacks(dir)).toEqual(['a', 'b', 'c', 'd']);
  });

  it.each([
    ['paperless', 'paperless'],
    ['Paperless_NGX', 'paperless-ngx'],
    ['home.assistant--2024', 'home-assistant-2024'],
    ['_odd_', 'odd'],
  ])('imports the folder %s as the app %s', (folder, app) => {
    expect(appNameOf(folder)).toBe(app);
  });

  it('reads EXPECT-REFUSAL: no file, an empty one (any refusal), or the first line that is not a comment', () => {
    const dir = corpus({
      plain: { 'compose.yaml': WEB },
      any: { 'compose.yaml': WEB, 'EXPECT-REFUSAL': '# any one-line refusal\n\n' },
      named: { 'compose.yaml': WEB, 'EXPECT-REFUSAL': '# why\n  services.web.image  \nignored\n' },
    });
    expect(expectedRefusal(path.join(dir, 'plain'))).toBeNull();
    expect(expectedRefusal(path.join(dir, 'any'))).toBe('');
    expect(expectedRefusal(path.join(dir, 'named'))).toBe('services.web.image');
  });

  it.skipIf(compose.skip || kubectl.skip)('fails a stack that must be refused and imports, and one refused with another refusal than its EXPECT-REFUSAL says', () => {
    const dir = corpus({
      imports: { 'compose.yaml': WEB, 'EXPECT-REFUSAL': 'services.web.build\n' },
      other: { 'compose.yaml': 'services:\n  web:\n    image: homelab-test/app:@version@\n', 'EXPECT-REFUSAL': 'services.web.build\n' },
    });
    const root = createTempWorkspace('homelab-import-check-');
    dirs.push(root);
    const imported = checkStack(path.join(dir, 'imports'), root);
    expect(imported.import).toBe('imported');
    expect(imported.pass).toBe(false);
    expect(stackLine(imported)).toMatch(/^imports +imported +validate ok +render ok +roundtrip ok +\d+ ms +FAIL$/);

    const second = createTempWorkspace('homelab-import-check-');
    dirs.push(second);
    const other = checkStack(path.join(dir, 'other'), second);
    expect(other.import).toBe('refused');
    expect(other.wroteNothing).toBe(true);
    expect(other.pass).toBe(false);
    expect(stackLine(other)).toMatch(/^other +refused +expected, nothing written +\d+ ms +FAIL\n {4}services\.web\.image holds a placeholder/);
  });
});
