// Serving a fake file's bytes as the Hub and its CDN do (Range → 206,
// past the end → 416), with the faults a test injects: 429, Range ignored,
// a cut, a stall, a corrupt byte, a slow line. Counts the bytes it served.
// Imports only node: modules (the Playwright tests load it too).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeFile } from './fake-hub-content.js';

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

export function byteServer() {
  const faults = new Map<string, FakeFault[]>();
  const served = new Map<string, number>();
  /** Answers a stall fault left open: closed when the hub closes. */
  const stalled = new Set<ServerResponse>();
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

  return { faults, served, stalled, key, takeFault, serveContent };
}
