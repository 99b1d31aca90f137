// Repos with files for the fake Hub: what a download manager calls, answered
// as the real Hub answers it (models-and-serving.md), plus a CDN on a second
// port (another origin) that LFS files redirect to, and faults a test can
// inject. What a file is and how its bytes are made: fake-hub-content.ts; the
// JSON the API routes answer: fake-hub-listings.ts.
// Imports only node: modules (the Playwright tests load it too).
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeFile, type FakeFile, type FakeFileSpec } from './fake-hub-content.js';
import { infoBody, pageOf, readBody, revisionNotFound, sendJson, treeEntry, treeListing, type FakeRepo, type FakeRevision } from './fake-hub-listings.js';
import { byteServer, type FakeFault } from './fake-hub-serve.js';

export { gitBlobSha1, type FakeFileSpec } from './fake-hub-content.js';
export type { FakeRepo } from './fake-hub-listings.js';
export type { FakeFault } from './fake-hub-serve.js';

export interface FakeRepoSpec {
  id: string;
  gated?: false | 'auto' | 'manual';
  private?: boolean;
  files: FakeFileSpec[];
}

export interface CdnRequest {
  path: string;
  /** The Authorization header as received: must always be null. */
  authorization: string | null;
  range: string | null;
  query: string;
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
  const { faults, served, stalled, key, serveContent } = byteServer();
  const cdnRequests: CdnRequest[] = [];
  let pageSize = 50;

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

  function route(req: IncomingMessage, res: ServerResponse, path: string, ctx: FileRouteContext): boolean {
    const url = new URL(req.url ?? '/', 'http://hub');
    if (path === '/api/models' && req.method === 'GET') {
      const query = (url.searchParams.get('search') ?? '').toLowerCase();
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 20) || 20, 1000);
      const all = ctx.allModels().filter((m) => !m.private && m.id.toLowerCase().includes(query));
      const { page, headers } = pageOf(all, Math.min(limit, pageSize), url, ctx.hubUrl());
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
        const entries = treeListing(revision, prefix, url.searchParams.get('recursive') === 'true', expand);
        const { page, headers } = pageOf(entries, pageSize, url, ctx.hubUrl());
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

