import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { requireTool, type ToolRequirement } from './tools';

const BUILD = path.join(__dirname, '../../scripts/promtool/build.sh');

/**
 * promtool, Prometheus' own checker, at the version of the Compose Prometheus the catalog pins:
 * built once per machine from Prometheus' Go module into a cache outside the repository
 * (`scripts/promtool/build.sh`, which `npm run setup:engines` runs). Missing, it skips the tests
 * that need it with the reason, and fails them under CI (requireTool).
 */
export function requirePromtool(): ToolRequirement & { path: string } {
  const found = requireTool('promtool', ['bash', BUILD, '--check']);
  if (!found.available) return { ...found, path: '' };
  const result = spawnSync('bash', [BUILD, '--check'], { encoding: 'utf8' });
  return { ...found, path: result.stdout.trim() };
}
