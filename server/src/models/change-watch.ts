// Noticing what other processes write: a CLI's pull records, a Python tool
// or `llama-server -hf` filling the cache. fs.watch says quickly that a
// folder changed, but not reliably everywhere (network shares, some
// containers, a folder that does not exist yet), so a slow poll backs it up.
// Either way the folders are read again only after the burst settles, and a
// change is reported only when what was read differs from last time.
import { watch, type FSWatcher } from 'node:fs';

export interface ChangeWatchOptions<T> {
  /** Folders to watch (not recursively); asked again after each look, so new ones join. */
  folders: () => string[];
  /** Reads the state; `key` of two equal states is the same string. */
  read: () => T;
  key: (state: T) => string;
  onChange: (state: T, previous: T) => void;
  debounceMs?: number;
  pollMs?: number;
  /** A watcher that fails (too many watches, a folder gone): the poll still covers it. */
  log?: (line: string) => void;
}

export interface ChangeWatch {
  /** Looks now (after the debounce), as if a folder had changed. */
  poke(): void;
  close(): void;
}

export function watchChanges<T>(o: ChangeWatchOptions<T>): ChangeWatch {
  const debounceMs = o.debounceMs ?? 100;
  const watchers = new Map<string, FSWatcher>();
  let state = o.read();
  let key = o.key(state);
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const look = () => {
    timer = null;
    if (closed) return;
    let next: T;
    try {
      next = o.read();
    } catch (err) {
      o.log?.(`could not read what changed: ${(err as Error).message}`);
      return;
    }
    const nextKey = o.key(next);
    const previous = state;
    state = next;
    if (nextKey !== key) {
      key = nextKey;
      o.onChange(next, previous);
    }
    follow();
  };
  const poke = () => {
    if (!closed) timer ??= setTimeout(look, debounceMs).unref();
  };
  const follow = () => {
    const wanted = new Set(o.folders());
    for (const [folder, watcher] of watchers) {
      if (!wanted.has(folder)) {
        watcher.close();
        watchers.delete(folder);
      }
    }
    for (const folder of wanted) {
      if (watchers.has(folder)) continue;
      try {
        const watcher = watch(folder, { persistent: false }, poke);
        // A watched folder that is removed ends its watcher: the next look drops or renews it.
        watcher.on('error', () => {
          watcher.close();
          watchers.delete(folder);
          poke();
        });
        watchers.set(folder, watcher);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') o.log?.(`cannot watch ${folder} (${(err as NodeJS.ErrnoException).code}); polling it instead`);
      }
    }
  };
  follow();
  const poll = setInterval(poke, o.pollMs ?? 2_000).unref();

  return {
    poke,
    close() {
      closed = true;
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}
