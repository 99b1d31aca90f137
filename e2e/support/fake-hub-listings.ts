// The fake Hub's JSON answers, as the real Hub writes them: a repo's info, a
// revision's tree (paged with Link headers, as huggingface_hub follows them),
// and its refusals. Imports only node: modules (the Playwright tests load it too).
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeFile } from './fake-hub-content.js';

export interface FakeRevision {
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

export function treeEntry(file: FakeFile, expand: boolean, commit: string): Record<string, unknown> {
    const entry: Record<string, unknown> = { type: 'file', oid: file.gitOid, size: file.size, path: file.path };
    if (file.lfs) entry.lfs = { oid: file.sha256, size: file.size, pointerSize: 134 };
    if (file.xet) entry.xetHash = createHash('sha256').update(`xet:${file.sha256}`).digest('hex');
    if (expand) entry.lastCommit = { id: commit, title: 'Upload', date: '2025-01-01T00:00:00.000Z' };
    return entry;
  }

export function infoBody(repo: FakeRepo, revision: FakeRevision): unknown {
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

/** A revision's tree under `prefix`: its files, and the folders on their way (all of them when recursive). */
export function treeListing(revision: FakeRevision, prefix: string, recursive: boolean, expand: boolean): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [];
  const dirs = new Set<string>();
  for (const file of [...revision.files.values()].sort((a, b) => a.path.localeCompare(b.path))) {
    if (!file.path.startsWith(prefix)) continue;
    const parts = file.path.slice(prefix.length).split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = prefix + parts.slice(0, i).join('/');
      if ((recursive || i === 1) && !dirs.has(dir)) {
        dirs.add(dir);
        entries.push({ type: 'directory', oid: '0'.repeat(40), size: 0, path: dir });
      }
    }
    if (recursive || parts.length === 1) entries.push(treeEntry(file, expand, revision.commit));
  }
  return entries;
}

/** One page of a listing from `?cursor=`, with the Link to the next one when there is more. */
export function pageOf<T>(items: T[], size: number, url: URL, hubUrl: string): { page: T[]; headers: Record<string, string> } {
  const offset = Number(url.searchParams.get('cursor') ?? 0);
  const page = items.slice(offset, offset + size);
  const headers: Record<string, string> = {};
  if (offset + page.length < items.length) {
    const next = new URL(`${hubUrl}${url.pathname}${url.search}`);
    next.searchParams.set('cursor', String(offset + page.length));
    headers.Link = `<${next}>; rel="next"`;
  }
  return { page, headers };
}

export function revisionNotFound(res: ServerResponse, rev: string): void {
  sendJson(res, 404, { error: `Invalid rev id: ${rev}` }, { 'X-Error-Code': 'RevisionNotFound', 'X-Error-Message': `Invalid rev id: ${rev}` });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
