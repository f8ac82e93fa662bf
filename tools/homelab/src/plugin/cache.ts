import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { workspaceDataDirectoryForWorkspace } from 'nx/src/utils/cache-directory';
import { safeWriteFileCache } from 'nx/src/utils/plugin-cache-utils';

/**
 * What the inference plugin learnt by parsing YAML (a spec's facts, homelab.yaml's
 * environments), kept between Nx commands by the hash of the text it was parsed from, the way
 * Nx's own plugins keep theirs: every Nx command without a daemon builds the project graph
 * again, and with plugin isolation (Nx's default) it does so in a fresh worker, where parsing
 * 500 specs and loading the yaml library cost about half a second of each command.
 *
 * The cache holds values computed from a text alone, so a hit gives what a parse would give:
 * a changed text has another hash and is parsed again. It lives in Nx's workspace data
 * directory (`.nx/workspace-data/homelab-graph.json`, emptied by `nx reset`), is written once
 * at the end with the entries of this run only (so it never grows beyond the workspace), and
 * belongs to one version of the plugin: another version's file is ignored. A cache that
 * cannot be read or written only costs the parse.
 */
export class ParseCache {
  private readonly previous: Record<string, unknown>;
  private readonly current: Record<string, unknown> = {};
  /** Lookups served from the file, and texts parsed this run. */
  readonly stats = { hits: 0, parsed: 0 };

  /**
   * @param version what the cached values were computed by (a hash of the plugin's source):
   *   a file written by another version is ignored.
   */
  constructor(
    private readonly file: string,
    private readonly version: string,
  ) {
    this.previous = readEntries(file, version);
  }

  /** The cache of a workspace, in its Nx workspace data directory. */
  static forWorkspace(workspaceRoot: string, version: string): ParseCache {
    return new ParseCache(path.join(workspaceDataDirectoryForWorkspace(workspaceRoot), CACHE_FILE), version);
  }

  /**
   * `compute(text)`, from the cache when the same kind of value was computed from the same
   * text before. Values must survive JSON: store `null`, not `undefined`.
   * @example cache.get('spec', text, factsOf)
   */
  get<T>(kind: string, text: string, compute: (text: string) => T): T {
    const key = `${kind}:${createHash('sha256').update(text).digest('base64url')}`;
    if (Object.hasOwn(this.current, key)) return this.current[key] as T;
    if (Object.hasOwn(this.previous, key)) {
      this.stats.hits++;
      return (this.current[key] = this.previous[key]) as T;
    }
    this.stats.parsed++;
    return (this.current[key] = compute(text)) as T;
  }

  /** Writes this run's entries, unless they are exactly what the file already holds. */
  save(): void {
    const previousKeys = Object.keys(this.previous);
    const unchanged = this.stats.parsed === 0 && previousKeys.length === Object.keys(this.current).length;
    if (unchanged) return;
    safeWriteFileCache(this.file, JSON.stringify({ version: this.version, entries: this.current }));
  }
}

/** The file in Nx's workspace data directory. */
export const CACHE_FILE = 'homelab-graph.json';

function readEntries(file: string, version: string): Record<string, unknown> {
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown; entries?: unknown };
    const entries = data.entries;
    return data.version === version && entries && typeof entries === 'object' && !Array.isArray(entries) ? (entries as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
