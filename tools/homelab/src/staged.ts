import type { FileHost } from './host';

export interface StagedHost extends FileHost {
  /** Writes every staged change to the underlying host; returns the paths that changed there. */
  commit(): string[];
}

/**
 * A FileHost that keeps writes and deletes in memory over another host. A generator
 * does all its work on it (new homelab.yaml, specs, every re-render) and commits only
 * when every step succeeded, so a failure writes nothing, on the Nx Tree and on disk alike.
 */
export function stagedHost(base: FileHost): StagedHost {
  const staged = new Map<string, string | null>();
  const under = (dir: string) => (dir === '' ? '' : `${dir}/`);
  const host: StagedHost = {
    read: (file) => (staged.has(file) ? (staged.get(file) ?? null) : base.read(file)),
    isFile: (file) => (staged.has(file) ? staged.get(file) !== null : base.isFile(file)),
    exists: (file) => (staged.has(file) ? staged.get(file) !== null : base.exists(file) || host.list(file).length > 0),
    list: (dir) => {
      const prefix = under(dir);
      const names = new Set(base.list(dir));
      for (const [p, content] of staged) {
        if (!p.startsWith(prefix)) continue;
        const entry = p.slice(prefix.length).split('/')[0];
        if (content !== null) names.add(entry);
        else if (!p.slice(prefix.length).includes('/') && !host.isFile(p)) names.delete(entry);
      }
      return [...names].sort();
    },
    write: (file, content) => void staged.set(file, content),
    delete: (file) => void staged.set(file, null),
    commit: () => {
      const changed: string[] = [];
      for (const [file, content] of [...staged.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (content === null) {
          if (base.isFile(file)) {
            base.delete(file);
            changed.push(file);
          }
        } else if (base.read(file) !== content) {
          base.write(file, content);
          changed.push(file);
        }
      }
      staged.clear();
      return changed;
    },
  };
  return host;
}
