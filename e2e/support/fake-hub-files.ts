// Repos with files for the fake Hub: what a download manager calls, answered
// as the real Hub answers it (models-and-serving.md), plus a CDN on a second
// port (another origin) that LFS files redirect to, and faults a test can
// inject. File content is given by the test, or generated deterministically
// in 1 MiB blocks, so a 2 GiB file is never held in memory.
// Imports only node: modules (the Playwright tests load it too).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeFileSpec =
  | { path: string; content: Buffer | string; lfs?: boolean; xet?: boolean }
  | { path: string; size: number; seed?: number; lfs?: boolean; xet?: boolean };

export interface FakeRepoSpec {
  id: string;
  gated?: false | 'auto' | 'manual';
  private?: boolean;
  files: FakeFileSpec[];
}

export type FakeFault =
  /** The connection is cut after this many body bytes of the next `times` answers. */
  | { kind: 'cut'; afterBytes: number; times?: number }
  /** A Range request is answered 200 with the whole file. */
  | { kind: 'ignore-range'; times?: number }
  /** After this many bytes nothing more is sent (until the client gives up). */
  | { kind: 'stall'; afterBytes: number; times?: number }
  | { kind: '429'; retryAfter: number; times?: number }
  /** The content served differs (one byte) from what the hashes say. */
  | { kind: 'corrupt'; times?: number }
  /** Each answer sends at most this many bytes per second (to catch a pull mid-file). */
  | { kind: 'slow'; bytesPerSecond: number; times?: number };

export interface CdnRequest {
  path: string;
  /** The Authorization header as received: must always be null. */
  authorization: string | null;
  range: string | null;
  query: string;
}

interface FakeFile {
  path: string;
  size: number;
  lfs: boolean;
  xet: boolean;
  sha256: string;
  gitOid: string;
  read: (start: number, end: number) => Generator<Buffer>;
}

interface FakeRevision {
  commit: string;
  files: Map<string, FakeFile>;
}

export interface FakeRepo {
  id: string;
  gated: false | 'auto' | 'manual';
  private: boolean;
  /** Branch or tag → commit. */
  refs: Map<string, string>;
  revisions: Map<string, FakeRevision>;
}

const BLOCK = 1 << 20;

function generator(size: number, seed: number): (start: number, end: number) => Generator<Buffer> {
  // One pseudo-random block per file (only as long as the file needs), each 1 MiB of the file
  // being that block with its index in the first 4 bytes: distinct, cheap, never held whole.
  const base = Buffer.alloc(Math.min(BLOCK, Math.max(size, 32)));
  for (let i = 0, h = createHash('sha256').update(String(seed)).digest(); i < base.length; i += 32) {
    h.copy(base, i);
    h = createHash('sha256').update(h).digest();
  }
  return function* (start, end) {
    for (let pos = start; pos < end; ) {
      const n = Math.floor(pos / BLOCK);
      const offset = pos - n * BLOCK;
      const take = Math.min(BLOCK - offset, end - pos);
      const piece = Buffer.from(base.subarray(offset, offset + take));
      for (let i = offset; i < 4 && i < offset + take; i++) piece[i - offset] = (n >>> (8 * (3 - i))) & 0xff;
      yield piece;
      pos += take;
    }
  };
}

export function gitBlobSha1(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function makeFile(spec: FakeFileSpec): FakeFile {
  let size: number;
  let read: FakeFile['read'];
  if ('content' in spec) {
    const content = Buffer.from(spec.content);
    size = content.length;
    read = function* (start, end) {
      yield content.subarray(start, end);
    };
  } else {
    size = spec.size;
    read = generator(spec.size, spec.seed ?? 1);
  }
  const lfs = spec.lfs ?? !('content' in spec);
  const sha = createHash('sha256');
  const sha1 = createHash('sha1').update(`blob ${size}\0`);
  for (const chunk of read(0, size)) {
    sha.update(chunk);
    sha1.update(chunk);
  }
  const sha256 = sha.digest('hex');
  // An LFS file's git blob is its pointer file.
  const gitOid = lfs ? gitBlobSha1(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`)) : sha1.digest('hex');
  return { path: spec.path, size, lfs, xet: spec.xet ?? false, sha256, gitOid, read };
}

export interface FakeHubFiles {
  cdnUrl: string;
  repos: Map<string, FakeRepo>;
  cdnRequests: CdnRequest[];
  addRepo(spec: FakeRepoSpec): FakeRepo;
  /** A new commit on `branch` (default main) with these files; returns the commit. */
  addRevision(id: string, files: FakeFileSpec[], branch?: string): string;
  /** The file's content hashes, as the Hub lists them. */
  file(id: string, path: string, revision?: string): { size: number; sha256: string; gitOid: string; lfs: boolean };
  /** The content of a file, whole (tests of small files). */
  content(id: string, path: string, revision?: string): Buffer;
  fault(id: string, path: string, fault: FakeFault): void;
  clearFaults(): void;
  /** Releases every stalled answer (their sockets are closed). */
  releaseStalls(): void;
  /** Body bytes sent for this file, by the Hub and the CDN together. */
  bytesServed(id: string, path: string): number;
  resetCounters(): void;
  /** Entries that `tree` and search put in one page (Link pagination). */
  pageSize: number;
  close(): Promise<void>;
}

export interface FileRouteContext {
  hubUrl: () => string;
  /** A refusal to send when this token may not see or download the repo, or null. `download` adds the gate. */
  refusal: (repo: FakeRepo, download: boolean) => { status: number; body: unknown; headers: Record<string, string> } | null;
  /** Every model id the Hub knows (search lists them). */
  allModels: () => { id: string; gated: false | 'auto' | 'manual'; private: boolean }[];
}

export async function startFakeHubFiles(): Promise<FakeHubFiles & { route: (req: IncomingMessage, res: ServerResponse, path: string, ctx: FileRouteContext) => boolean }> {
  const repos = new Map<string, FakeRepo>();
  const faults = new Map<string, FakeFault[]>();
  const served = new Map<string, number>();
  const cdnRequests: CdnRequest[] = [];
  const stalled = new Set<ServerResponse>();
  let pageSize = 50;

  const key = (id: string, path: string) => `${id}/${path}`;
  const takeFault = (id: string, path: string, kinds: FakeFault['kind'][]): FakeFault | null => {
    const list = faults.get(key(id, path)) ?? [];
    const i = list.findIndex((f) => kinds.includes(f.kind));
    if (i < 0) return null;
    const fault = list[i]!;
    const left = (fault.times ?? 1) - 1;
    if (left <= 0) list.splice(i, 1);
    else list[i] = { ...fault, times: left };
    return fault;
  };

  function revisionOf(repo: FakeRepo, rev: string): FakeRevision | null {
    const commit = repo.refs.get(rev) ?? (repo.revisions.has(rev) ? rev : null);
    return commit ? repo.revisions.get(commit)! : null;
  }

  const cdn: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://cdn');
    cdnRequests.push({ path: url.pathname, authorization: req.headers.authorization ?? null, range: req.headers.range ?? null, query: url.search });
    const m = /^\/repos\/(.+)\/([0-9a-f]{64})$/.exec(url.pathname);
    const repo = m ? repos.get(decodeURIComponent(m[1]!)) : undefined;
    const file = repo ? [...repo.revisions.values()].flatMap((r) => [...r.files.values()]).find((f) => f.sha256 === m![2]) : undefined;
    if (!repo || !file || !url.searchParams.get('X-Amz-Signature')) {
      res.writeHead(403, { 'Content-Type': 'application/xml' });
      return void res.end('<Error><Code>AccessDenied</Code></Error>');
    }
    serveContent(req, res, repo.id, file, {});
  });
  await new Promise<void>((resolve) => cdn.listen(0, '127.0.0.1', resolve));
  const cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  function serveContent(req: IncomingMessage, res: ServerResponse, repoId: string, file: FakeFile, headers: Record<string, string>): void {
    const limited = takeFault(repoId, file.path, ['429']);
    if (limited && limited.kind === '429') {
      res.writeHead(429, { 'Retry-After': String(limited.retryAfter), 'Content-Type': 'text/plain' });
      return void res.end('Too Many Requests');
    }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const ignore = range ? takeFault(repoId, file.path, ['ignore-range']) : null;
    let start = 0;
    let end = file.size;
    let status = 200;
    if (range && !ignore) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]) + 1, file.size) : file.size;
      if (start >= file.size) {
        res.writeHead(416, { 'Content-Range': `bytes */${file.size}`, ...headers });
        return void res.end();
      }
      status = 206;
      headers['Content-Range'] = `bytes ${start}-${end - 1}/${file.size}`;
    }
    res.writeHead(status, { 'Content-Type': 'application/octet-stream', 'Content-Length': end - start, 'Accept-Ranges': 'bytes', ...headers });
    if (req.method === 'HEAD') return void res.end();
    const fault = takeFault(repoId, file.path, ['cut', 'stall', 'corrupt', 'slow']);
    void pump(res, repoId, file, start, end, fault);
  }

  async function pump(res: ServerResponse, repoId: string, file: FakeFile, start: number, end: number, fault: FakeFault | null): Promise<void> {
    const count = (n: number) => served.set(key(repoId, file.path), (served.get(key(repoId, file.path)) ?? 0) + n);
    let sent = 0;
    const corruptAt = Math.floor(file.size / 2);
    let closed = false;
    res.on('close', () => (closed = true));
    const began = Date.now();
    for (const piece of file.read(start, end)) {
      for (let offset = 0; offset < piece.length && !closed; ) {
        let chunk = piece.subarray(offset, offset + 64 * 1024);
        const limit = fault && (fault.kind === 'cut' || fault.kind === 'stall') ? fault.afterBytes - sent : Infinity;
        if (limit <= 0) {
          if (fault!.kind === 'cut') return void res.socket?.destroy();
          stalled.add(res);
          return;
        }
        if (chunk.length > limit) chunk = chunk.subarray(0, limit);
        const at = start + sent;
        if (fault?.kind === 'corrupt' && at <= corruptAt && corruptAt < at + chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[corruptAt - at] = chunk[corruptAt - at]! ^ 0xff;
        }
        if (fault?.kind === 'slow') {
          const due = began + (sent * 1000) / fault.bytesPerSecond;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
          if (closed) return;
        }
        const ok = res.write(chunk);
        sent += chunk.length;
        offset += chunk.length;
        count(chunk.length);
        if (!ok) await new Promise<void>((resolve) => {
          const done = () => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
      }
      if (closed) return;
    }
    if (fault && (fault.kind === 'cut' || fault.kind === 'stall') && sent >= fault.afterBytes) {
      if (fault.kind === 'cut') return void res.socket?.destroy();
      stalled.add(res);
      return;
    }
    res.end();
  }

  function treeEntry(file: FakeFile, expand: boolean, commit: string): Record<string, unknown> {
    const entry: Record<string, unknown> = { type: 'file', oid: file.gitOid, size: file.size, path: file.path };
    if (file.lfs) entry.lfs = { oid: file.sha256, size: file.size, pointerSize: 134 };
    if (file.xet) entry.xetHash = createHash('sha256').update(`xet:${file.sha256}`).digest('hex');
    if (expand) entry.lastCommit = { id: commit, title: 'Upload', date: '2025-01-01T00:00:00.000Z' };
    return entry;
  }

  function route(req: IncomingMessage, res: ServerResponse, path: string, ctx: FileRouteContext): boolean {
    const url = new URL(req.url ?? '/', 'http://hub');
    if (path === '/api/models' && req.method === 'GET') {
      const query = (url.searchParams.get('search') ?? '').toLowerCase();
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 20) || 20, 1000);
      const all = ctx.allModels().filter((m) => !m.private && m.id.toLowerCase().includes(query));
      const offset = Number(url.searchParams.get('cursor') ?? 0);
      const page = all.slice(offset, offset + Math.min(limit, pageSize));
      const headers: Record<string, string> = {};
      if (offset + page.length < all.length) {
        const next = new URL(`${ctx.hubUrl()}${url.pathname}${url.search}`);
        next.searchParams.set('cursor', String(offset + page.length));
        headers.Link = `<${next}>; rel="next"`;
      }
      sendJson(res, 200, page.map((m) => ({ _id: `fake-${m.id}`, id: m.id, private: m.private, gated: m.gated, downloads: 7, likes: 3, lastModified: '2025-01-01T00:00:00.000Z', pipeline_tag: 'text-generation', library_name: 'transformers', tags: [] })), headers);
      return true;
    }
    let m = /^\/api\/models\/(.+?)\/(revision|tree|paths-info)\/([^/]+)(?:\/(.*))?$/.exec(path);
    const repo = m ? repos.get(m[1]!) : undefined;
    if (m && repo) {
      const refusal = ctx.refusal(repo, false);
      if (refusal) return sendJson(res, refusal.status, refusal.body, refusal.headers), true;
      const revision = revisionOf(repo, m[3]!);
      if (!revision) return revisionNotFound(res, m[3]!), true;
      if (m[2] === 'revision' && req.method === 'GET') {
        sendJson(res, 200, infoBody(repo, revision));
        return true;
      }
      const expand = url.searchParams.get('expand') === 'true';
      if (m[2] === 'tree' && req.method === 'GET') {
        const prefix = m[4] ? `${m[4].replace(/\/$/, '')}/` : '';
        const recursive = url.searchParams.get('recursive') === 'true';
        const entries: Record<string, unknown>[] = [];
        const dirs = new Set<string>();
        for (const file of [...revision.files.values()].sort((a, b) => a.path.localeCompare(b.path))) {
          if (!file.path.startsWith(prefix)) continue;
          const rest = file.path.slice(prefix.length);
          const parts = rest.split('/');
          for (let i = 1; i < parts.length; i++) {
            const dir = prefix + parts.slice(0, i).join('/');
            if ((recursive || i === 1) && !dirs.has(dir)) {
              dirs.add(dir);
              entries.push({ type: 'directory', oid: '0'.repeat(40), size: 0, path: dir });
            }
          }
          if (recursive || parts.length === 1) entries.push(treeEntry(file, expand, revision.commit));
        }
        const offset = Number(url.searchParams.get('cursor') ?? 0);
        const page = entries.slice(offset, offset + pageSize);
        const headers: Record<string, string> = {};
        if (offset + page.length < entries.length) {
          const next = new URL(`${ctx.hubUrl()}${url.pathname}${url.search}`);
          next.searchParams.set('cursor', String(offset + page.length));
          headers.Link = `<${next}>; rel="next"`;
        }
        sendJson(res, 200, page, headers);
        return true;
      }
      if (m[2] === 'paths-info' && req.method === 'POST') {
        readBody(req).then((body) => {
          let paths: string[] = [];
          let wantExpand = false;
          try {
            const parsed = JSON.parse(body) as { paths?: string[]; expand?: boolean };
            paths = parsed.paths ?? [];
            wantExpand = parsed.expand === true;
          } catch {
            const form = new URLSearchParams(body);
            paths = form.getAll('paths');
            wantExpand = form.get('expand') === 'true';
          }
          const out = paths.map((p) => revision.files.get(p)).filter((f): f is FakeFile => Boolean(f));
          sendJson(res, 200, out.map((f) => treeEntry(f, wantExpand, revision.commit)));
        });
        return true;
      }
    }
    m = /^\/api\/models\/([^/]+\/[^/]+)$/.exec(path);
    if (m && repos.has(m[1]!) && req.method === 'GET') {
      const r = repos.get(m[1]!)!;
      const refusal = ctx.refusal(r, false);
      if (refusal) return sendJson(res, refusal.status, refusal.body, refusal.headers), true;
      sendJson(res, 200, infoBody(r, revisionOf(r, 'main')!));
      return true;
    }
    m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const target = m ? repos.get(m[1]!) : undefined;
    if (m && target && (req.method === 'GET' || req.method === 'HEAD')) {
      const refusal = ctx.refusal(target, true);
      if (refusal) return sendJson(res, refusal.status, refusal.body, refusal.headers), true;
      const revision = revisionOf(target, m[2]!);
      if (!revision) return revisionNotFound(res, m[2]!), true;
      const file = revision.files.get(m[3]!);
      const commitHeader = { 'X-Repo-Commit': revision.commit };
      if (!file) {
        sendJson(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound', 'X-Error-Message': 'Entry not found', ...commitHeader });
        return true;
      }
      if (file.lfs) {
        const location = `${cdnUrl}/repos/${encodeURIComponent(target.id)}/${file.sha256}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=fakecdnsignature${createHash('sha1').update(file.sha256).digest('hex')}&Expires=9999999999`;
        res.writeHead(302, { Location: location, 'X-Linked-Etag': `"${file.sha256}"`, 'X-Linked-Size': String(file.size), ETag: `"${file.gitOid}"`, 'Content-Length': 0, ...commitHeader });
        res.end();
        return true;
      }
      serveContent(req, res, target.id, file, { ETag: `"${file.gitOid}"`, ...commitHeader });
      return true;
    }
    return false;
  }

  function infoBody(repo: FakeRepo, revision: FakeRevision): unknown {
    return {
      _id: `fake-${repo.id}`,
      id: repo.id,
      modelId: repo.id,
      author: repo.id.split('/')[0],
      sha: revision.commit,
      lastModified: '2025-01-01T00:00:00.000Z',
      private: repo.private,
      disabled: false,
      gated: repo.gated,
      downloads: 7,
      likes: 3,
      tags: ['gguf'],
      pipeline_tag: 'text-generation',
      library_name: 'transformers',
      siblings: [...revision.files.keys()].map((rfilename) => ({ rfilename })),
    };
  }

  let commits = 0;
  function newCommit(id: string, files: FakeFile[]): string {
    return createHash('sha1').update(`${id}\0${commits++}\0${files.map((f) => f.gitOid).join(',')}`).digest('hex');
  }

  const api = {
    cdnUrl,
    repos,
    cdnRequests,
    get pageSize() {
      return pageSize;
    },
    set pageSize(n: number) {
      pageSize = n;
    },
    addRepo(spec: FakeRepoSpec): FakeRepo {
      const repo: FakeRepo = { id: spec.id, gated: spec.gated ?? false, private: spec.private ?? false, refs: new Map(), revisions: new Map() };
      repos.set(spec.id, repo);
      api.addRevision(spec.id, spec.files);
      return repo;
    },
    addRevision(id: string, specs: FakeFileSpec[], branch = 'main'): string {
      const repo = repos.get(id)!;
      const files = specs.map(makeFile);
      const commit = newCommit(id, files);
      repo.revisions.set(commit, { commit, files: new Map(files.map((f) => [f.path, f])) });
      repo.refs.set(branch, commit);
      return commit;
    },
    file(id: string, path: string, revision = 'main') {
      const f = revisionOf(repos.get(id)!, revision)!.files.get(path)!;
      return { size: f.size, sha256: f.sha256, gitOid: f.gitOid, lfs: f.lfs };
    },
    content(id: string, path: string, revision = 'main'): Buffer {
      const f = revisionOf(repos.get(id)!, revision)!.files.get(path)!;
      return Buffer.concat([...f.read(0, f.size)]);
    },
    fault(id: string, path: string, fault: FakeFault) {
      faults.set(key(id, path), [...(faults.get(key(id, path)) ?? []), fault]);
    },
    clearFaults() {
      faults.clear();
    },
    releaseStalls() {
      for (const res of stalled) res.socket?.destroy();
      stalled.clear();
    },
    bytesServed: (id: string, path: string) => served.get(key(id, path)) ?? 0,
    resetCounters() {
      served.clear();
      cdnRequests.length = 0;
    },
    route,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of stalled) res.socket?.destroy();
        cdn.closeAllConnections();
        cdn.close(() => resolve());
      }),
  };
  return api;
}

function revisionNotFound(res: ServerResponse, rev: string): void {
  sendJson(res, 404, { error: `Invalid rev id: ${rev}` }, { 'X-Error-Code': 'RevisionNotFound', 'X-Error-Message': `Invalid rev id: ${rev}` });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
