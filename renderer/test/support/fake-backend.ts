import { vi } from 'vitest';

export interface RecordedCall {
  method: string;
  path: string;
  authorization: string | null;
  body: unknown;
}

type Answer = Response | (() => Response | Promise<Response>);

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function apiError(status: number, error: string, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { error, message }, headers);
}

/** A text/event-stream body delivered in the given chunks. */
export function eventStream(chunks: string[], opts: { keepOpen?: boolean } = {}): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      if (!opts.keepOpen) controller.close();
    },
  });
}

/**
 * Installs a fetch that answers "METHOD /path" from a table (the path after
 * /api/public, query included) and records what the dashboard sent.
 * An answer is used once per listing; list several to answer in turn.
 */
export function fakeBackend(routes: Record<string, Answer | Answer[]>) {
  const calls: RecordedCall[] = [];
  const served = new Map<string, number>();
  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://127.0.0.1:8000');
    const method = init.method ?? 'GET';
    const path = `${url.pathname.replace(/^\/api\/public/, '')}${url.search}`;
    const headers = new Headers(init.headers);
    calls.push({ method, path, authorization: headers.get('authorization'), body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined });
    const key = `${method} ${path}`;
    const route = routes[key];
    if (!route) throw new Error(`fake backend: no answer for ${key}`);
    const list = Array.isArray(route) ? route : [route];
    const index = served.get(key) ?? 0;
    served.set(key, index + 1);
    const answer = list[Math.min(index, list.length - 1)]!;
    const response = typeof answer === 'function' ? await answer() : answer;
    // A Response body can be read once; hand out a copy so a route can answer twice.
    return response.bodyUsed ? response : response.clone();
  });
  vi.stubGlobal('fetch', fetch);
  return { calls, fetch };
}

/** Refuses every connection, as a stopped server would. */
export function unreachableBackend() {
  const fetch = vi.fn(async () => {
    throw new TypeError('Failed to fetch');
  });
  vi.stubGlobal('fetch', fetch);
  return { fetch };
}
