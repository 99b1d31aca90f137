// Support for the load tests: a real backend that can be asked for its memory,
// a scan of everything it logs for token values, and cheap raw SSE readers.
import { fork, type ChildProcess } from 'node:child_process';
import { request, Agent, type IncomingMessage } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { AuditEntry } from '../../../shared/api.js';
import { CLI, runCli, waitForReady } from './backend-process.js';

const PROBE_MODULE = pathToFileURL(fileURLToPath(new URL('./memory-probe.mjs', import.meta.url))).href;
const PROBE = 'halo-test:probe';

export interface ProbeReading {
  memory: NodeJS.MemoryUsage;
  /** Kinds of live handles (TCPSocketWrap, TCPServerWrap, Timeout...) and how many of each. */
  resources: Record<string, number>;
  /** Bytes used in each V8 heap space (old_space, code_space...): where a growth is. */
  spaces: Record<string, number>;
}

export interface ProbedBackend {
  child: ChildProcess;
  port: number;
  /** Memory after forced full collections, and the live handles, read inside the backend. */
  probe(): Promise<ProbeReading>;
  /** What the backend has logged so far: byte count, and where a token value showed up unmasked. */
  log: SecretScan;
  stop(): Promise<number | null>;
}

const TOKEN_VALUE = /hfk_[A-Za-z0-9_-]{8,}/;
/** Longer than any token, so a value split across two chunks is still seen whole. */
const CARRY = 256;
const TAIL = 4000;

/**
 * Watches a process's output without keeping it all (a load run logs tens of
 * megabytes): counts bytes, keeps the tail for failure messages, and notes an
 * unmasked token value. What it reports never contains the value itself.
 */
export class SecretScan {
  bytes = 0;
  leaks: string[] = [];
  private carry = '';
  private rawTail = '';

  feed(chunk: string): void {
    this.bytes += Buffer.byteLength(chunk);
    const text = this.carry + chunk;
    const match = TOKEN_VALUE.exec(text);
    if (match && this.leaks.length < 5) {
      const at = match.index;
      // The context before it could hold the cut-off end of another value: long runs are masked too.
      const before = text.slice(Math.max(0, at - 80), at).replace(/[A-Za-z0-9_-]{20,}/g, '<masked>');
      this.leaks.push(`${before}hfk_<${match[0].length - 4} characters>`);
      // Past this value, so the next chunk's carry does not report it again.
      this.carry = text.slice(at + match[0].length).slice(-CARRY);
    } else {
      this.carry = text.slice(-CARRY);
    }
    this.rawTail = (this.rawTail + chunk).slice(-(TAIL + CARRY));
  }

  /** The last few KB, token values masked; the first CARRY characters are dropped, as they may start inside a value. */
  tail(): string {
    return this.rawTail.replace(new RegExp(TOKEN_VALUE.source, 'g'), 'hfk_<masked>').slice(this.rawTail.length > TAIL ? CARRY : 0);
  }
}

/**
 * The real backend (the built CLI, `serve --port 0`) with `--expose-gc` and
 * the test-only memory probe preloaded. Its log level stays at the product's
 * default (info: a line per request), as the desktop app runs it.
 */
export async function startProbedBackend(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<ProbedBackend> {
  const child = fork(CLI, ['serve', '--port', '0', ...args], {
    env,
    execArgv: ['--expose-gc', '--import', PROBE_MODULE],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const log = new SecretScan();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => log.feed(d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => log.feed(d));

  const ready = await waitForReady(child, () => log.tail(), timeoutMs);

  let nextId = 0;
  const probe = (): Promise<ProbeReading> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        child.off('message', answer);
        reject(new Error('the backend did not answer the memory probe within 10 s (is memory-probe.mjs loaded?)'));
      }, 10_000);
      const answer = (m: { type?: string; id?: number } & ProbeReading) => {
        if (m.type !== PROBE || m.id !== id) return;
        clearTimeout(timer);
        child.off('message', answer);
        resolve({ memory: m.memory, resources: m.resources, spaces: m.spaces });
      };
      child.on('message', answer);
      child.send({ type: PROBE, id });
    });

  return {
    child,
    port: ready.port,
    probe,
    log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Runs the CLI to completion and notes when its process exited: for a revoke,
 * the moment the change is on disk and confirmed to whoever ran it.
 */
export function runCliTimed(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string; exitedAt: number }> {
  return new Promise((resolve) => {
    const child = fork(CLI, args, { env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    let exitedAt = NaN;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('exit', () => (exitedAt = performance.now()));
    child.once('close', (code) => resolve({ code, stderr, exitedAt }));
  });
}

/** `halo-forge token create NAME --json`, returning the secret. */
export async function createTokenWithCli(name: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await runCli(['token', 'create', name, '--json'], env);
  if (r.code !== 0) throw new Error(`token create ${name} exited with ${r.code}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
}

const oneShot = new Agent({ keepAlive: false });

/**
 * One request on a connection of its own that closes afterwards (fetch would
 * keep it open), so the server's open sockets can be counted back to zero.
 */
export function requestOnce(port: number, method: string, path: string, headers: Record<string, string>, payload?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: oneShot,
        headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** One API call with a bearer token. */
export async function callApi(port: number, secret: string, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const { status, text } = await requestOnce(port, method, `/api/public${path}`, { authorization: `Bearer ${secret}` }, body === undefined ? undefined : JSON.stringify(body));
  return { status, body: text ? JSON.parse(text) : null };
}

/** What one reader of /api/public/audit/stream has seen. Times are performance.now() in this process. */
export interface StreamWatch {
  token: string;
  status: number | null;
  contentType: string | null;
  /** The opening comment arrived: the stream is live. */
  greeted: boolean;
  keepalives: number;
  events: AuditEntry[];
  /** When the server finished the response (a clean end of the chunked body), or null while open. */
  endedAt: number | null;
  /** A broken connection or a malformed stream, as opposed to a clean end. */
  error: string | null;
  close(): void;
}

/** An agent that never queues: every stream gets its own socket at once. */
export function streamAgent(): Agent {
  return new Agent({ keepAlive: false, maxSockets: Infinity });
}

/**
 * Opens one SSE stream over a raw Node request (no EventSource, no child
 * process) and parses it as it arrives. Resolves once the response head is in.
 */
export function openAuditStream(port: number, token: string, secret: string, agent: Agent): Promise<StreamWatch> {
  return new Promise((resolve, reject) => {
    let res: IncomingMessage | null = null;
    let closing = false;
    const broken = (what: string) => {
      // Our own close() cuts the stream off too; only a cut we did not ask for counts.
      if (!closing && watch.endedAt === null) watch.error ??= what;
    };
    const watch: StreamWatch = {
      token,
      status: null,
      contentType: null,
      greeted: false,
      keepalives: 0,
      events: [],
      endedAt: null,
      error: null,
      close: () => {
        closing = true;
        req.destroy();
      },
    };
    let pending = '';
    const req = request({ host: '127.0.0.1', port, path: '/api/public/audit/stream', agent, headers: { authorization: `Bearer ${secret}`, accept: 'text/event-stream' } }, (r) => {
      res = r;
      watch.status = r.statusCode ?? null;
      watch.contentType = r.headers['content-type'] ?? null;
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => {
        pending += chunk;
        for (let cut = pending.indexOf('\n\n'); cut !== -1; cut = pending.indexOf('\n\n')) {
          const block = pending.slice(0, cut);
          pending = pending.slice(cut + 2);
          readBlock(watch, block);
        }
      });
      r.on('end', () => {
        watch.endedAt = performance.now();
        if (pending) watch.error ??= `the stream ended inside an event: ${JSON.stringify(pending.slice(0, 200))}`;
      });
      r.on('aborted', () => broken('the response was cut off before its end'));
      r.on('error', (err) => broken(`response error: ${err.message}`));
      resolve(watch);
    });
    req.on('error', (err) => {
      if (res === null) reject(err);
      else broken(`connection error: ${err.message}`);
    });
    req.end();
  });
}

function readBlock(watch: StreamWatch, block: string): void {
  if (block === ': halo-forge audit stream') watch.greeted = true;
  else if (block === ': keepalive') watch.keepalives++;
  else if (block.startsWith('event: audit\ndata: ')) watch.events.push(JSON.parse(block.slice('event: audit\ndata: '.length)) as AuditEntry);
  else watch.error ??= `unexpected stream block: ${JSON.stringify(block.slice(0, 200))}`;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
