import { isIP } from 'node:net';
import { statSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { SCOPES, type Scope, type TokenInfo } from '../../../shared/api.js';
import { withFileLock } from '../fs/file-lock.js';
import { ensurePrivateDir, readTextIfExists, tightenFileMode, writePrivateFileAtomic } from '../fs/private-file.js';
import { expiryProblem, generateApiToken, hashApiToken, parseDuration, tokenNameProblem } from './token-format.js';
import { httpError } from '../errors.js';
import { storageError } from '../fs/storage-error.js';

export interface TokenRecord extends TokenInfo {
  hash: string;
}

interface StoreFile {
  version: 1;
  tokens: TokenRecord[];
}

export type Verification =
  | { status: 'ok'; record: TokenRecord }
  | { status: 'invalid' }
  | { status: 'expired'; record: TokenRecord };

/** The store file exists but cannot be used; the server refuses to start rather than overwrite it. */
export class TokenStoreCorruptError extends Error {
  constructor(readonly path: string, problem: string) {
    super(`The token store ${path} cannot be read: ${problem}. It was left untouched; fix or move it, then start again.`);
    this.name = 'TokenStoreCorruptError';
  }
}

export interface CreateTokenOptions {
  name: string;
  scope?: Scope;
  expires?: string | null;
  note?: string;
}

const FLUSH_INTERVAL_MS = 5_000;
const RELOAD_POLL_MS = 200;

/**
 * HALOFORGE_LAST_USED_FLUSH_MS shortens the flush interval (20 ms to 60 s) so
 * the fault tests can kill a server mid-flush; anything else keeps the default.
 */
function flushInterval(env: NodeJS.ProcessEnv): number {
  const ms = Number(env.HALOFORGE_LAST_USED_FLUSH_MS);
  return Number.isInteger(ms) && ms >= 20 && ms <= 60_000 ? ms : FLUSH_INTERVAL_MS;
}

/**
 * The file-backed token store, shared by the CLI and a running server.
 *
 * Every change is a locked read-modify-write of the file as it is on disk
 * right now, never of a copy held in memory, so two processes cannot lose or
 * resurrect each other's changes. `last_used` is kept in memory and merged
 * into the current file every few seconds, only into tokens that are still
 * there with the same hash: a flush can never bring back a revoked token
 * (the peer's whole-file-rewrite bug).
 */
export class TokenStore {
  private byHash = new Map<string, TokenRecord>();
  private records: TokenRecord[] = [];
  private pendingUse = new Map<string, { hash: string; at: number; from: string | null }>();
  private fileStamp = '';
  private timers: NodeJS.Timeout[] = [];
  private watchers: FSWatcher[] = [];
  private flushing: Promise<void> | null = null;
  private changeListeners = new Set<() => void>();
  readonly warnings: string[] = [];
  onReloadError: (message: string) => void = () => {};

  constructor(readonly path: string) {}

  /** Reads the store; throws TokenStoreCorruptError for a file it cannot trust. */
  load(): this {
    const dirWarning = ensurePrivateDir(dirname(this.path));
    if (dirWarning) this.warnings.push(dirWarning);
    const text = readTextIfExists(this.path);
    if (text !== null) {
      const modeWarning = tightenFileMode(this.path);
      if (modeWarning) this.warnings.push(modeWarning);
    }
    this.replace(text === null ? [] : parseStore(this.path, text).tokens);
    this.fileStamp = this.stamp();
    return this;
  }

  list(): TokenInfo[] {
    return this.records.map(({ hash: _hash, ...info }) => {
      const pending = this.pendingUse.get(info.name);
      return pending && pending.hash === _hash ? { ...info, lastUsed: isoSeconds(new Date(pending.at)), lastUsedFrom: pending.from } : info;
    });
  }

  get size(): number {
    return this.records.length;
  }

  /**
   * The hot path: one SHA-256 and one map lookup, whatever the number of tokens.
   * A miss costs one stat more: a token that `halo-forge token create` made a
   * moment ago is in the file before the CLI exits, and must work on the very
   * next request, not after the next poll. The file is read only when its
   * stamp changed, so a flood of unknown tokens never reads it.
   */
  verify(secret: string, now = Date.now()): Verification {
    const hash = hashApiToken(secret);
    let record = this.byHash.get(hash);
    if (!record && this.reloadIfChanged()) record = this.byHash.get(hash);
    if (!record) return { status: 'invalid' };
    if (record.expires && Date.parse(record.expires) <= now) return { status: 'expired', record };
    return { status: 'ok', record };
  }

  /** The token with this stored hash as it is now, unless revoked or expired; no hashing. */
  current(hash: string, now = Date.now()): TokenRecord | null {
    const record = this.byHash.get(hash);
    return record !== undefined && !(record.expires && Date.parse(record.expires) <= now) ? record : null;
  }

  /** Called after the set of tokens changed, in this process or another. Returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** On the request path: a map write, no formatting, no I/O. */
  recordUse(record: TokenRecord, at = Date.now(), from: string | null = null): void {
    const pending = this.pendingUse.get(record.name);
    if (pending && pending.hash === record.hash) Object.assign(pending, { at, from });
    else this.pendingUse.set(record.name, { hash: record.hash, at, from });
  }

  async create(options: CreateTokenOptions, now = new Date()): Promise<{ record: TokenRecord; token: string }> {
    const problem = tokenNameProblem(options.name);
    if (problem) throw httpError(400, 'token.invalid_name', problem);
    const scope = options.scope ?? 'admin';
    if (!SCOPES.includes(scope)) throw httpError(400, 'request.invalid', `Unknown scope "${String(scope)}"; use one of ${SCOPES.join(', ')}.`);
    let expires: string | null = null;
    if (options.expires) {
      const problem = expiryProblem(options.expires);
      if (problem) throw httpError(400, 'request.invalid', problem);
      expires = isoSeconds(new Date(now.getTime() + parseDuration(options.expires)!));
    }
    const note = (options.note ?? '').trim();
    if (note.length > 200 || /[\x00-\x1f\x7f]/.test(note)) throw httpError(400, 'request.invalid', 'A note is at most 200 characters, on one line.');
    const token = generateApiToken();
    const record: TokenRecord = { name: options.name, scope, created: isoSeconds(now), lastUsed: null, lastUsedFrom: null, expires, note, hash: hashApiToken(token) };
    await this.mutate((tokens) => {
      if (tokens.some((t) => t.name === record.name)) {
        throw httpError(409, 'token.duplicate', `A token named "${record.name}" already exists; revoke it first or pick another name.`);
      }
      return [...tokens, record];
    });
    return { record, token };
  }

  async revoke(name: string): Promise<TokenInfo> {
    let removed: TokenRecord | undefined;
    await this.mutate((tokens) => {
      removed = tokens.find((t) => t.name === name);
      if (!removed) throw httpError(404, 'token.not_found', `No token named "${name}".`);
      return tokens.filter((t) => t !== removed);
    });
    this.pendingUse.delete(name);
    const { hash: _hash, ...info } = removed!;
    return info;
  }

  /** Merges pending last-used times into the file as it is now. */
  flushLastUsed(): Promise<void> {
    if (this.pendingUse.size === 0) return this.flushing ?? Promise.resolve();
    this.flushing ??= (async () => {
      const pending = new Map([...this.pendingUse].map(([name, use]) => [name, { ...use }]));
      try {
        await this.mutate((tokens) =>
          tokens.map((t) => {
            const use = pending.get(t.name);
            // Same name but another hash is a token created after a revoke: not ours to touch.
            if (!use || use.hash !== t.hash) return t;
            const at = isoSeconds(new Date(use.at));
            return !t.lastUsed || t.lastUsed <= at ? { ...t, lastUsed: at, lastUsedFrom: use.from } : t;
          }),
        );
        // Keep entries that were used again while the flush ran.
        for (const [name, use] of pending) {
          const now = this.pendingUse.get(name);
          if (now && now.hash === use.hash && now.at === use.at && now.from === use.from) this.pendingUse.delete(name);
        }
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  /** Picks up changes other processes made; keeps the last good state when the file went bad. */
  reloadIfChanged(): boolean {
    const stamp = this.stamp();
    if (stamp === this.fileStamp) return false;
    const text = readTextIfExists(this.path);
    try {
      this.replace(text === null ? [] : parseStore(this.path, text).tokens);
      this.fileStamp = stamp;
      return true;
    } catch (err) {
      this.fileStamp = stamp;
      this.onReloadError((err as Error).message);
      return false;
    }
  }

  /**
   * For a running server: see other processes' changes (a revoke above all)
   * as soon as the directory says the file was replaced, and by the next poll
   * at the latest, where watching is not possible; flush last-used every few seconds.
   */
  watch(env: NodeJS.ProcessEnv = process.env): void {
    this.timers.push(setInterval(() => this.reloadIfChanged(), RELOAD_POLL_MS).unref());
    try {
      const file = basename(this.path);
      // The store is replaced by a rename into its directory, so the directory is what to watch.
      const watcher = fsWatch(dirname(this.path), { persistent: false }, (_event, name) => {
        if (name === null || name === file) this.reloadIfChanged();
      });
      watcher.on('error', () => watcher.close());
      this.watchers.push(watcher);
    } catch {
      // No inotify (or a full watch table): the poll alone keeps revokes within its interval.
    }
    this.timers.push(setInterval(() => void this.flushLastUsed().catch((err: Error) => this.onReloadError(err.message)), flushInterval(env)).unref());
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    for (const watcher of this.watchers) watcher.close();
    this.watchers = [];
    await this.flushLastUsed();
  }

  private async mutate(change: (tokens: TokenRecord[]) => TokenRecord[]): Promise<void> {
    try {
      await withFileLock(this.path, () => {
        const text = readTextIfExists(this.path);
        const current = text === null ? [] : parseStore(this.path, text).tokens;
        const next = change(current);
        const file: StoreFile = { version: 1, tokens: next };
        writePrivateFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`);
        this.replace(next);
        this.fileStamp = this.stamp();
      });
    } catch (err) {
      throw storageError(err, `the token store ${this.path}`, dirname(this.path));
    }
  }

  private replace(tokens: TokenRecord[]): void {
    this.records = tokens;
    this.byHash = new Map(tokens.map((t) => [t.hash, t]));
    for (const listener of this.changeListeners) listener();
  }

  private stamp(): string {
    try {
      const s = statSync(this.path, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      return 'missing';
    }
  }
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Validates every field, so a hand edit that breaks the file is named instead of silently dropping tokens. */
export function parseStore(path: string, text: string): StoreFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new TokenStoreCorruptError(path, `it is not valid JSON (${(err as Error).message})`);
  }
  if (!data || typeof data !== 'object' || !Array.isArray((data as StoreFile).tokens)) {
    throw new TokenStoreCorruptError(path, 'expected an object with a "tokens" list');
  }
  const seen = new Set<string>();
  const tokens = (data as StoreFile).tokens.map((raw, i) => {
    const where = `token #${i + 1}`;
    if (!raw || typeof raw !== 'object') throw new TokenStoreCorruptError(path, `${where} is not an object`);
    const t = raw as Partial<TokenRecord> & { secret?: unknown; token?: unknown };
    const nameProblem = tokenNameProblem(t.name);
    if (nameProblem) throw new TokenStoreCorruptError(path, `${where}: ${nameProblem}`);
    if (seen.has(t.name!)) throw new TokenStoreCorruptError(path, `the name "${t.name}" appears twice`);
    seen.add(t.name!);
    if (typeof t.hash !== 'string' || !/^[0-9a-f]{64}$/.test(t.hash)) throw new TokenStoreCorruptError(path, `token "${t.name}" has no valid SHA-256 "hash"`);
    const scope = t.scope ?? 'admin';
    if (!SCOPES.includes(scope)) throw new TokenStoreCorruptError(path, `token "${t.name}" has an unknown scope "${String(scope)}"`);
    for (const field of ['created', 'lastUsed', 'expires'] as const) {
      const value = t[field];
      if (value === null || value === undefined) {
        if (field === 'created') throw new TokenStoreCorruptError(path, `token "${t.name}" has no "created" time`);
        continue;
      }
      if (typeof value !== 'string' || !ISO.test(value)) throw new TokenStoreCorruptError(path, `token "${t.name}" has a bad "${field}" time`);
    }
    return {
      name: t.name!,
      hash: t.hash,
      scope,
      created: t.created!,
      lastUsed: t.lastUsed ?? null,
      // Written by this version on each flush; an older file has none. Only an address is kept, never free text.
      lastUsedFrom: typeof t.lastUsedFrom === 'string' && isIP(t.lastUsedFrom) ? t.lastUsedFrom : null,
      expires: t.expires ?? null,
      note: typeof t.note === 'string' ? t.note : '',
    } satisfies TokenRecord;
  });
  return { version: 1, tokens };
}
