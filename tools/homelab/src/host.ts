import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Tree } from '@nx/devkit';

/**
 * The few file operations the generators need, over either the Nx Tree (so that
 * --dry-run and Nx's change list work) or the disk (plop). Paths are relative to
 * the workspace root with '/'.
 */
export interface FileHost {
  read(file: string): string | null;
  exists(file: string): boolean;
  /** Names of the entries of a folder (files and folders), [] when it does not exist. */
  list(dir: string): string[];
  isFile(file: string): boolean;
  write(file: string, content: string): void;
  delete(file: string): void;
  /**
   * Values worked out from what this host reads, kept as long as the host: only a host that never
   * writes has one (readOnceHost), so nothing kept can go stale. Hosts wrapping it share it.
   */
  readonly memo?: Map<string, unknown>;
}

export function treeHost(tree: Tree): FileHost {
  return {
    read: (file) => (tree.exists(file) && tree.isFile(file) ? tree.read(file, 'utf-8') : null),
    exists: (file) => tree.exists(file),
    list: (dir) => (tree.exists(dir) ? tree.children(dir) : []),
    isFile: (file) => tree.exists(file) && tree.isFile(file),
    write: (file, content) => tree.write(file, content),
    delete: (file) => tree.delete(file),
  };
}

export function diskHost(root: string): FileHost {
  const abs = (file: string) => path.join(root, file);
  return {
    read: (file) => {
      try {
        return fs.readFileSync(abs(file), 'utf8');
      } catch {
        return null;
      }
    },
    exists: (file) => fs.existsSync(abs(file)),
    list: (dir) => {
      try {
        return fs.readdirSync(abs(dir)).sort();
      } catch {
        return [];
      }
    },
    isFile: (file) => {
      try {
        return fs.statSync(abs(file)).isFile();
      } catch {
        return false;
      }
    },
    write: (file, content) => {
      fs.mkdirSync(path.dirname(abs(file)), { recursive: true });
      fs.writeFileSync(abs(file), content);
    },
    delete: (file) => fs.rmSync(abs(file), { force: true }),
  };
}

/**
 * `host` for a reader that writes nothing: the texts of the files `shared` accepts, and every
 * folder listing, are read once and kept. For a validate run, where each of N projects reads every
 * app's spec (the apps that depend on it, the hosts they claim): without it a run read N * N files.
 * Writing through it is refused, so nothing it keeps can go stale.
 */
export function readOnceHost(host: FileHost, shared: (file: string) => boolean): FileHost {
  const texts = new Map<string, string | null>();
  const listings = new Map<string, string[]>();
  const refuse = (file: string): never => {
    throw new Error(`${file}: this file host only reads (readOnceHost)`);
  };
  return {
    memo: host.memo ?? new Map(),
    read: (file) => {
      if (!shared(file)) return host.read(file);
      if (!texts.has(file)) texts.set(file, host.read(file));
      return texts.get(file)!;
    },
    exists: (file) => host.exists(file),
    list: (dir) => {
      if (!listings.has(dir)) listings.set(dir, host.list(dir));
      return [...listings.get(dir)!];
    },
    isFile: (file) => host.isFile(file),
    write: refuse,
    delete: refuse,
  };
}

/** Every file below a folder, recursively, as workspace-relative paths in sorted order. */
export function listFilesRecursive(host: FileHost, dir: string): string[] {
  const out: string[] = [];
  for (const entry of host.list(dir)) {
    const child = `${dir}/${entry}`;
    if (host.isFile(child)) out.push(child);
    else out.push(...listFilesRecursive(host, child));
  }
  return out.sort();
}
