// A reader of one server-sent event stream over real HTTP (fetch), for tests
// of how a stream ends: it records every event as it arrives, and when and
// how the stream ended.

export interface SseEvent {
  event: string;
  data: string;
}

export interface SseWatch {
  status: number;
  headers: Headers;
  /** Blocks received, comments included (the opening comment, keepalives). */
  blocks: number;
  events: SseEvent[];
  /** Every byte received, for scanning for secrets. */
  text: string;
  /** Date.now() when the server ended the response cleanly; null while it is open. */
  endedAt: number | null;
  /** A connection cut off or reset rather than ended (our own close() aside). */
  error: string | null;
  close(): void;
}

export async function openSse(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<SseWatch> {
  const controller = new AbortController();
  const res = await fetch(url, { ...init, headers: { accept: 'text/event-stream', ...init.headers }, signal: controller.signal });
  const watch: SseWatch = { status: res.status, headers: res.headers, blocks: 0, events: [], text: '', endedAt: null, error: null, close: () => controller.abort() };
  void (async () => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let pending = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunk = decoder.decode(value, { stream: true });
        watch.text += chunk;
        pending += chunk;
        for (let cut = pending.indexOf('\n\n'); cut !== -1; cut = pending.indexOf('\n\n')) {
          const block = pending.slice(0, cut);
          pending = pending.slice(cut + 2);
          watch.blocks++;
          const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (data !== undefined) watch.events.push({ event, data });
        }
      }
      watch.endedAt = Date.now();
      if (pending) watch.error = `the stream ended inside an event: ${JSON.stringify(pending.slice(0, 200))}`;
    } catch (err) {
      if (!controller.signal.aborted) watch.error = `the stream was cut off: ${(err as Error).message}`;
    }
  })();
  return watch;
}
