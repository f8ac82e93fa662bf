import { childEnv } from '../../scripts/lib/temp-workspace';

/**
 * The environment every test starts `nx` (or plop) with: no daemon, no cloud, no
 * terminal UI, plugins in the Nx process, plain uncoloured output. `extra` adds or
 * overrides variables (e.g. NX_SKIP_NX_CACHE for runs that must execute).
 */
export function nxTestEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return childEnv({
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    NX_ISOLATE_PLUGINS: 'false',
    NX_VERBOSE_LOGGING: 'false',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
    ...extra,
  });
}
