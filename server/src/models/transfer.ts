// Moving one blob from the Hub into the cache: resumable, verified while it
// streams, and careful with the token.
//
// Why not @huggingface/hub's downloaders (checked in 2.17.5,
// src/lib/download-file-to-cache-dir.ts and snapshot-download.ts):
// - downloadFileToCacheDir pipes into createWriteStream(`${blob}.incomplete`),
//   which truncates: a partial is thrown away, never resumed with Range;
// - it takes no progress callback and checks no hash (not even the size);
// - a single file is filed under snapshots/{the file's lastCommit} (not the
//   revision's commit) and no refs/{revision} is written;
// - snapshotDownload calls it one file at a time; and it uses the xetHash as
//   the blob name for Xet files, where huggingface_hub uses the SHA-256.
// So the engine is ours; @huggingface/hub still does search, info and listing.
//
// The rules (models-and-serving.md): the token goes to the Hub's own origin
// (and so to relative redirects) only, never to the CDN a /resolve redirects
// to; it is sent again on every resumed request. A partial continues with
// `Range: bytes=N-` from blobs/{etag}.incomplete, the name huggingface_hub
// uses, so either tool continues the other's partial. 206 continues; 200 to a
// Range request starts the file over; 416 means verify what is there.
import { open, rm, rename, stat, truncate } from 'node:fs/promises';
import type { Hash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpError, isHaloError } from '../errors.js';
import { BatchedWriter, WRITE_BATCH } from './batched-writer.js';
import { hashPrefix, startHash, type Expected } from './verify.js';
import { wireGet, type WireResponse } from './wire.js';

export interface TransferOptions {
  /** `{hub}/{repo}/resolve/{commit}/{path}`. */
  url: string;
  /** The Hub's origin: the only one that is sent the token. */
  hubOrigin: string;
  token: string | null;
  blob: string;
  incomplete: string;
  expected: Expected;
  /** The file's name in the repo, for messages. */
  label: string;
  signal: AbortSignal;
  /** Bytes of this file on disk now (it can go down when a file starts over). */
  onProgress: (received: number) => void;
  /** A line for the log: never a token, never a signed URL's query. */
  log: (line: string) => void;
  /** No bytes for this long: reconnect. */
  stallMs?: number;
  /** Network failures in a row before giving up (the partial stays for a later resume). */
  retries?: number;
  backoffMs?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_RETRY_AFTER_S = 300;

class Retryable extends Error {
  constructor(
    message: string,
    readonly waitMs: number | null = null,
  ) {
    super(message);
  }
}

/** A URL as it may be logged: a signed CDN URL loses its query (the signature). */
export function loggableUrl(url: URL | string): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  return `${u.origin}${u.pathname}`;
}

/** Whether a request to `target` may carry the token: only the Hub's own origin. */
export function sendsToken(target: URL, hubOrigin: string): boolean {
  return target.origin === new URL(hubOrigin).origin;
}

/** What to do with a download answer, given the bytes already on disk. */
export function rangeDecision(status: number, have: number, contentRangeStart: number | null): 'append' | 'restart' | 'verify' | 'error' {
  if (status === 416) return 'verify';
  if (status === 200) return have > 0 ? 'restart' : 'append';
  if (status === 206) return contentRangeStart === have ? 'append' : 'restart';
  return 'error';
}

export async function transferBlob(o: TransferOptions): Promise<void> {
  const stallMs = o.stallMs ?? 30_000;
  const retries = o.retries ?? 5;
  const backoffMs = o.backoffMs ?? 1_000;
  const size = o.expected.size;

  let have = await sizeOf(o.incomplete);
  if (have > size) {
    await truncate(o.incomplete, 0);
    have = 0;
  }
  let hash = startHash(o.expected);
  // On resume the digest must cover the prefix already on disk: hash it first, once.
  await hashPrefix(hash, o.incomplete, have);
  o.onProgress(have);
  const file = await open(o.incomplete, 'a', 0o644);
  const disk = new BatchedWriter(file);
  try {
    let failures = 0;
    while (have < size) {
      o.signal.throwIfAborted();
      const before = have;
      try {
        const outcome = await attempt();
        if (outcome === 'verify') break;
      } catch (err) {
        if (o.signal.aborted || isHaloError(err) || !(err instanceof Retryable || isNetworkError(err))) throw err;
        failures = have > before ? 1 : failures + 1;
        const reason = err instanceof Error ? err.message : String(err);
        if (failures > retries) {
          throw httpError(
            502,
            'model.network',
            `Downloading ${o.label} failed ${failures} times in a row (${reason}); ${formatCount(have)} of ${formatCount(size)} bytes are kept in the cache, and running the same pull again continues from there.`,
          );
        }
        const wait = err instanceof Retryable && err.waitMs !== null ? err.waitMs : Math.min(backoffMs * 2 ** (failures - 1), 30_000);
        o.log(`${o.label}: ${reason}; retrying in ${Math.round(wait / 100) / 10} s (${failures}/${retries})`);
        await sleep(wait, undefined, { signal: o.signal });
      }
    }
    // Durable before it is named by its hash: a crash must not leave a short blob that looks verified.
    await disk.sync();
  } finally {
    await disk.settle().catch(() => undefined);
    await file.close();
  }

  const digest = hash.digest('hex');
  if (have !== size || digest !== o.expected.etag) {
    await rm(o.incomplete, { force: true });
    const what = have !== size ? `${formatCount(have)} bytes instead of ${formatCount(size)}` : `${o.expected.algorithm === 'sha256' ? 'SHA-256' : 'git SHA-1'} ${digest} instead of ${o.expected.etag}`;
    throw httpError(502, 'model.verify_failed', `${o.label} did not verify: the download has ${what}. The bad copy was deleted; pull again to fetch it anew.`);
  }
  await rename(o.incomplete, o.blob);

  async function attempt(): Promise<'done' | 'verify'> {
    const attemptAbort = new AbortController();
    const signal = AbortSignal.any([o.signal, attemptAbort.signal]);
    let timer = setTimeout(() => attemptAbort.abort(), stallMs);
    const kick = () => {
      clearTimeout(timer);
      timer = setTimeout(() => attemptAbort.abort(), stallMs);
    };
    try {
      const response = await request(signal);
      const start = /^bytes (\d+)-/.exec(response.header('content-range') ?? '')?.[1];
      const ok = response.status >= 200 && response.status < 300;
      const decision = ok || response.status === 416 ? rangeDecision(response.status, have, start === undefined ? null : Number(start)) : 'error';
      if (decision === 'error') throw await refusal(response);
      if (decision === 'verify') {
        response.discard();
        if (have === size) return 'verify';
        // The server says our partial is past its end: it is not this file. Start over.
        await restart('the server refused the range (416) for a partial that is not complete');
        throw new Retryable('starting over', 0);
      }
      if (decision === 'restart') {
        await restart(response.status === 200 ? 'the server ignored the Range request (200); starting the file over' : `the server sent a different range (${response.header('content-range')}); starting the file over`);
        if (response.status !== 200) {
          response.discard();
          throw new Retryable('starting over', 0);
        }
      }
      try {
        for await (const chunk of response.body) {
          kick();
          if (have + chunk.byteLength > size) throw httpError(502, 'model.verify_failed', `${o.label} is larger than the ${formatCount(size)} bytes the Hub lists; the download was stopped.`);
          hash.update(chunk);
          disk.add(chunk);
          have += chunk.byteLength;
          o.onProgress(have);
          if (disk.buffered >= WRITE_BATCH) await disk.flush();
        }
      } finally {
        // What arrived before a cut is good data, already hashed: it goes to disk, so the file and the hash agree on a resume.
        await disk.settle();
      }
      if (have < size) throw new Retryable(`the connection closed after ${formatCount(have)} of ${formatCount(size)} bytes`);
      return 'done';
    } catch (err) {
      if (attemptAbort.signal.aborted && !o.signal.aborted) throw new Retryable(`no bytes for ${Math.round(stallMs / 1000)} s`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function restart(reason: string): Promise<void> {
    o.log(`${o.label}: ${reason}`);
    await file.truncate(0);
    hash = startHash(o.expected);
    have = 0;
    o.onProgress(0);
  }

  /** Follows redirects by hand: the token goes to the Hub's origin only, and is sent again on each request. */
  async function request(signal: AbortSignal): Promise<WireResponse> {
    let target = new URL(o.url);
    for (let hop = 0; hop < 6; hop++) {
      const headers: Record<string, string> = { 'accept-encoding': 'identity' };
      if (have > 0) headers.range = `bytes=${have}-`;
      if (o.token && sendsToken(target, o.hubOrigin)) headers.authorization = `Bearer ${o.token}`;
      const response = await wireGet(target, headers, signal);
      if (!REDIRECTS.has(response.status)) return response;
      const location = response.header('location');
      response.discard();
      if (!location) throw new Retryable(`a ${response.status} redirect without a Location`);
      target = new URL(location, target);
      if (hop === 0 && !sendsToken(target, o.hubOrigin)) o.log(`${o.label}: from ${loggableUrl(target)}`);
    }
    throw new Retryable('too many redirects');
  }

  async function refusal(response: WireResponse): Promise<Error> {
    response.discard();
    const code = response.header('x-error-code');
    if (response.status === 429) {
      const after = Number(response.header('retry-after'));
      const seconds = Number.isFinite(after) && after > 0 ? Math.min(after, MAX_RETRY_AFTER_S) : 5;
      return new Retryable(`the Hub is rate-limiting (429, Retry-After ${seconds} s)`, seconds * 1000);
    }
    if (response.status >= 500 || response.status === 408) return new Retryable(`the server answered ${response.status}`);
    if (code === 'GatedRepo') return httpError(403, 'model.gated', `The Hub refused ${o.label}: the model is gated and this token has not been granted access. Accept the license on the model page, then pull again.`);
    if (code === 'RepoNotFound') return httpError(404, 'model.not_found', `The Hub does not find this repo any more (it may have been made private or deleted); ${o.label} was not downloaded.`);
    if (code === 'RevisionNotFound') return httpError(404, 'model.revision_not_found', `The revision of ${o.label} is no longer on the Hub.`);
    if (code === 'EntryNotFound' || response.status === 404) return httpError(404, 'model.entry_not_found', `The Hub has no file ${o.label} at this revision any more.`);
    if (response.status === 401 || response.status === 403) {
      return httpError(response.status, 'model.unauthorized', `The Hub refused to send ${o.label} (${response.status}); connect a Hugging Face token that can read this model.`);
    }
    return new Retryable(`the server answered ${response.status}`);
  }
}

/** Refusals of the local disk: retrying the network does not help them. */
const LOCAL_FAILURES = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS', 'EIO', 'EBADF', 'EISDIR', 'ENOENT']);

function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (LOCAL_FAILURES.has((err as NodeJS.ErrnoException).code ?? '')) return false;
  return err.name === 'TypeError' || err.name === 'AbortError' || 'code' in err || (err.cause !== undefined && err.cause !== null);
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export type { Hash };
