import { describe, expect, it } from 'vitest';
import { readEventStream, type ServerSentEvent } from '../src/api/event-stream';
import { eventStream } from './support/fake-backend';

async function read(chunks: string[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  await readEventStream(eventStream(chunks), (e) => events.push(e));
  return events;
}

describe('reading text/event-stream', () => {
  it.each<[string, string[], ServerSentEvent[]]>([
    ['one event', ['event: audit\ndata: {"a":1}\n\n'], [{ event: 'audit', data: '{"a":1}', id: null }]],
    ['no event name means "message"', ['data: x\n\n'], [{ event: 'message', data: 'x', id: null }]],
    ['data lines join with a newline', ['data: one\ndata: two\n\n'], [{ event: 'message', data: 'one\ntwo', id: null }]],
    ['comments are keepalives, not events', [': keepalive\n\n: another\n\n'], []],
    ['CRLF line ends', ['event: audit\r\ndata: y\r\n\r\n'], [{ event: 'audit', data: 'y', id: null }]],
    ['a CRLF split across chunks', ['data: y\r', '\n\r', '\n'], [{ event: 'message', data: 'y', id: null }]],
    ['lone CR line ends', ['data: z\r\r'], [{ event: 'message', data: 'z', id: null }]],
    ['a line split mid-field', ['eve', 'nt: au', 'dit\nda', 'ta: 1\n', '\n'], [{ event: 'audit', data: '1', id: null }]],
    ['only one leading space is dropped', ['data:  two spaces\n\n'], [{ event: 'message', data: ' two spaces', id: null }]],
    ['an id is kept', ['id: 7\ndata: q\n\n'], [{ event: 'message', data: 'q', id: '7' }]],
    ['an event cut off by the end of the stream is dropped', ['data: complete\n\ndata: partial\n'], [{ event: 'message', data: 'complete', id: null }]],
  ])('%s', async (_name, chunks, expected) => {
    expect(await read(chunks)).toEqual(expected);
  });

  it('decodes UTF-8 split between chunks', async () => {
    const bytes = new TextEncoder().encode('data: café\n\n');
    const split = bytes.indexOf(0xc3) + 1;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, split));
        c.enqueue(bytes.slice(split));
        c.close();
      },
    });
    const events: ServerSentEvent[] = [];
    await readEventStream(stream, (e) => events.push(e));
    expect(events).toEqual([{ event: 'message', data: 'café', id: null }]);
  });
});
