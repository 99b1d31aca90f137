// The shared Hugging Face cache, laid out as huggingface_hub lays it out
// (file_download.py, utils/_cache_manager.py), so transformers, vLLM and
// llama.cpp find what we pull and we find what they pulled:
//   {cache}/models--{org}--{name}/blobs/{etag}            the content, once
//   {cache}/models--{org}--{name}/blobs/{etag}.incomplete a partial, either tool resumes it
//   {cache}/models--{org}--{name}/snapshots/{commit}/{path} a relative symlink to the blob (a copy where symlinks fail)
//   {cache}/models--{org}--{name}/refs/{revision}         the commit, no newline, written atomically
//   {cache}/models--{org}--{name}/.no_exist/{commit}/{path} an empty file: confirmed missing at that commit
//   {cache}/.locks/models--{org}--{name}/{etag}.lock      the per-blob lock
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import type { LocalFile, LocalModel, LocalRevision } from '../../../shared/models.js';

export type RepoKind = LocalModel['kind'];



export function repoFolderName(repo: string, kind: RepoKind = 'model'): string {
  return [`${kind}s`, ...repo.split('/')].join('--');
}

export class RepoCache {
  readonly dir: string;
  /** Folders this instance (one pull) has made: a pull of many small files would otherwise spend its time in mkdir. */
  private readonly made = new Set<string>();
  constructor(
    readonly cacheDir: string,
    readonly repo: string,
  ) {
    this.dir = join(cacheDir, repoFolderName(repo));
  }

  async madeDir(dir: string): Promise<void> {
    if (this.made.has(dir)) return;
    await fsp.mkdir(dir, { recursive: true });
    this.made.add(dir);
  }

  blobPath(etag: string): string {
    return join(this.dir, 'blobs', etag);
  }

  incompletePath(etag: string): string {
    return `${this.blobPath(etag)}.incomplete`;
  }

  lockPath(etag: string): string {
    return join(this.cacheDir, '.locks', repoFolderName(this.repo), `${etag}.lock`);
  }

  snapshotPath(commit: string, path: string): string {
    return join(this.dir, 'snapshots', commit, ...path.split('/'));
  }

  /** True when the snapshot entry exists and leads to a file of `size` bytes. */
  hasSnapshotFile(commit: string, path: string, size: number): boolean {
    try {
      return statSync(this.snapshotPath(commit, path)).size === size;
    } catch {
      return false;
    }
  }

  /** Points `snapshots/{commit}/{path}` at the blob: a relative symlink, or a copy where the filesystem refuses symlinks. */
  async linkSnapshot(commit: string, path: string, etag: string): Promise<void> {
    const pointer = this.snapshotPath(commit, path);
    const blob = this.blobPath(etag);
    await this.madeDir(dirname(pointer));
    const target = relative(dirname(pointer), blob);
    try {
      await fsp.symlink(target, pointer);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        // A stale entry (an older copy, or a link another tool wrote): replace it.
        await fsp.rm(pointer, { force: true });
        return this.linkSnapshot(commit, path, etag);
      }
      if (code !== 'EPERM' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EINVAL') throw err;
      // FAT, some network shares, Windows without developer mode: what huggingface_hub does there too.
      await fsp.copyFile(blob, pointer);
    }
  }

  /** `refs/{revision}` holds the commit; written via a temp file and rename so a reader never sees half of it. */
  writeRef(revision: string, commit: string): void {
    const path = join(this.dir, 'refs', ...revision.split('/'));
    mkdirSync(dirname(path), { recursive: true });
    try {
      if (readFileSync(path, 'utf8') === commit) return;
    } catch {
      // not there yet
    }
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, commit);
    renameSync(tmp, path);
  }

  readRef(revision: string): string | null {
    try {
      return readFileSync(join(this.dir, 'refs', ...revision.split('/')), 'utf8').trim();
    } catch {
      return null;
    }
  }
}

/** Every repo in the cache folder, whoever wrote it. Unreadable entries are skipped, never fatal. */
export function scanCache(cacheDir: string): Omit<LocalModel, 'lastPulled' | 'incomplete'>[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return [];
  }
  const repos: Omit<LocalModel, 'lastPulled' | 'incomplete'>[] = [];
  for (const name of names.sort()) {
    const match = /^(models|datasets|spaces)--(.+)$/.exec(name);
    if (!match) continue;
    const dir = join(cacheDir, name);
    try {
      if (!statSync(dir).isDirectory()) continue;
      repos.push(scanRepo(dir, match[1]!.slice(0, -1) as RepoKind, match[2]!.split('--').join('/')));
    } catch {
      // A repo another tool is writing right now, or a stray folder: leave it out of this listing.
    }
  }
  return repos;
}

export function scanRepo(dir: string, kind: RepoKind, id: string): Omit<LocalModel, 'lastPulled' | 'incomplete'> {
  const refs = readRefs(join(dir, 'refs'));
  const blobs = new Map<string, Stats>();
  const revisions: LocalRevision[] = [];
  const snapshots = join(dir, 'snapshots');
  for (const commit of existsSync(snapshots) ? readdirSync(snapshots).sort() : []) {
    const root = join(snapshots, commit);
    if (!lstatSync(root).isDirectory()) continue;
    const files: LocalFile[] = [];
    const own = new Map<string, Stats>();
    let newest = 0;
    for (const path of walkFiles(root)) {
      const full = join(root, ...path.split('/'));
      let stat: Stats;
      try {
        stat = statSync(full);
      } catch {
        continue; // a symlink whose blob is gone
      }
      const key = `${stat.dev}:${stat.ino}`;
      own.set(key, stat);
      blobs.set(key, stat);
      newest = Math.max(newest, stat.mtimeMs);
      files.push({ path, size: stat.size });
    }
    revisions.push({
      commit,
      refs: refs.filter(([, c]) => c === commit).map(([r]) => r),
      files,
      size: [...own.values()].reduce((n, s) => n + s.size, 0),
      lastModified: new Date(newest || statSync(root).mtimeMs).toISOString(),
    });
  }
  return { id, kind, path: dir, size: [...blobs.values()].reduce((n, s) => n + s.size, 0), revisions };
}

/** `[name, commit]` for each ref, with branch names like `pr/1` that are nested folders. */
function readRefs(dir: string, prefix = ''): [string, string][] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: [string, string][] = [];
  for (const entry of entries) {
    if (entry.name.endsWith('.tmp')) continue;
    const name = prefix + entry.name;
    if (entry.isDirectory()) out.push(...readRefs(join(dir, entry.name), `${name}/`));
    else if (entry.isFile()) out.push([name, readFileSync(join(dir, entry.name), 'utf8').trim()]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

function walkFiles(root: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walkFiles(root, path));
    else out.push(path);
  }
  return out.sort();
}

/** True when a partial download (ours or Python's) is waiting in the repo's blobs. */
export function hasPartialBlobs(dir: string): boolean {
  try {
    return readdirSync(join(dir, 'blobs')).some((n) => n.endsWith('.incomplete'));
  } catch {
    return false;
  }
}

/**
 * Removes one revision (a commit or a ref name), or all of them. A blob that
 * a remaining revision still uses is kept; refs that pointed at a removed
 * revision go. Returns the commits removed and the bytes freed.
 */
export function removeRevisions(dir: string, revision: string | null): { removed: string[]; freed: number } {
  const snapshots = join(dir, 'snapshots');
  const refs = readRefs(join(dir, 'refs'));
  const commits = existsSync(snapshots) ? readdirSync(snapshots) : [];
  const target = revision === null ? commits : commits.filter((c) => c === revision || refs.some(([r, rc]) => r === revision && rc === c));
  if (target.length === 0) return { removed: [], freed: 0 };

  const blobsOf = (commit: string) => {
    const root = join(snapshots, commit);
    const set = new Map<string, number>();
    for (const path of walkFiles(root)) {
      const full = join(root, ...path.split('/'));
      try {
        const real = realpathSync(full);
        set.set(real, statSync(real).size);
      } catch {
        // dangling: nothing to free
      }
    }
    return set;
  };
  const kept = new Set<string>();
  for (const commit of commits.filter((c) => !target.includes(c))) for (const real of blobsOf(commit).keys()) kept.add(real);
  let freed = 0;
  const doomed = new Map<string, number>();
  for (const commit of target) for (const [real, size] of blobsOf(commit)) if (!kept.has(real)) doomed.set(real, size);

  for (const commit of target) rmSync(join(snapshots, commit), { recursive: true, force: true });
  for (const [real, size] of doomed) {
    rmSync(real, { force: true });
    freed += size;
  }
  for (const [name, commit] of refs) if (target.includes(commit)) rmSync(join(dir, 'refs', ...name.split('/')), { force: true });
  for (const commit of target) rmSync(join(dir, '.no_exist', commit), { recursive: true, force: true });
  if (target.length === commits.length) {
    // Nothing of the repo is left to use: its folder goes, partials and all.
    for (const name of existsSync(join(dir, 'blobs')) ? readdirSync(join(dir, 'blobs')) : []) {
      try {
        freed += statSync(join(dir, 'blobs', name)).size;
      } catch {
        // gone meanwhile
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return { removed: target.sort(), freed };
}
