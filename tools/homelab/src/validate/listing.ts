import * as fs from 'node:fs';
import * as path from 'node:path';
import { inRun, perRun } from './run-memo';

/** A folder entry as readdir tells it, with its type (a symbolic link is only `link`). */
export interface Entry {
  readonly name: string;
  readonly file: boolean;
  readonly dir: boolean;
  readonly link: boolean;
}

interface Listing {
  /** Sorted by name in code-unit order (as `Array.prototype.sort` sorts strings). */
  readonly entries: readonly Entry[];
  readonly byName: ReadonlyMap<string, Entry>;
}

/**
 * A folder's entries, or null when it cannot be read; once per validate run and folder
 * (run-memo.ts). A batch of 500 apps listed the same folders and stat'ed the same files several
 * times each (the drift check, the parse of every file, the Compose and ArgoCD checks): about
 * 40,000 file-system calls that one listing of each folder answers.
 */
export function entriesOf(dir: string): readonly Entry[] | null {
  return listing(dir)?.entries ?? null;
}

function listing(dir: string): Listing | null {
  return perRun(`entries:${dir}`, () => {
    let dirents: fs.Dirent[];
    try {
      dirents = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return null;
    }
    const entries = dirents
      .map((e) => ({ name: e.name, file: e.isFile(), dir: e.isDirectory(), link: e.isSymbolicLink() }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { entries, byName: new Map(entries.map((e) => [e.name, e])) };
  });
}

/**
 * The entry of `abs` in its folder's listing, within a validate run; undefined when that does not
 * settle it (outside a run, a folder that cannot be listed, a name the listing lacks, a symbolic
 * link), and the caller asks the file system as before. A name the listing lacks is asked again
 * because a case-insensitive file system finds `App.yaml` as `app.yaml`.
 */
function listedEntry(abs: string): Entry | undefined {
  if (!inRun()) return undefined;
  const entry = listing(path.dirname(abs))?.byName.get(path.basename(abs));
  return entry && !entry.link ? entry : undefined;
}

/** fs.statSync(abs).isFile(), false when it is not there; from the folder's listing within a run. */
export function isFileAt(abs: string): boolean {
  const entry = listedEntry(abs);
  if (entry) return entry.file;
  try {
    return fs.statSync(abs).isFile();
  } catch {
    return false;
  }
}

/** fs.existsSync(abs); from the folder's listing within a run. */
export function existsAt(abs: string): boolean {
  return listedEntry(abs) !== undefined || fs.existsSync(abs);
}
