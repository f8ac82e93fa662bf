import { afterEach } from 'vitest';
import { makeTempDir, removeDir } from './workspace';
import { writeFiles } from '../../scripts/lib/temp-workspace';

// Kept apart from workspace.ts, which the benchmarks import outside vitest (scripts/bench-deploy.ts):
// importing vitest there made `npm run bench:deploy` fail at its first line.

/**
 * For a test file: a maker of fresh temporary folders holding just the given workspace-relative
 * files, each removed after its test.
 * @example const workspace = tempWorkspaces('migration'); const dir = workspace({ 'homelab.yaml': text });
 */
export function tempWorkspaces(prefix: string): (files: Record<string, string>) => string {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach(removeDir));
  return (files) => {
    const dir = makeTempDir(prefix);
    dirs.push(dir);
    writeFiles(dir, files);
    return dir;
  };
}
