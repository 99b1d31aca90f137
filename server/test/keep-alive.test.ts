import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { workstations } from './support/backend-process.js';

// A reverse proxy keeps idle connections to the backend (nginx 60 s) and sends
// the next request down one of them. If the backend closed it first, at Node's
// 5 s default, that request races the close and a POST comes back 502.

/** Sends one GET on the socket and resolves with the response head once it has arrived in full. */
async function get(socket: Socket, port: number): Promise<string> {
  let head = '';
  const done = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(head);
      if (end !== -1 && length && head.length >= end + 4 + Number(length[1])) {
        socket.off('data', onData);
        resolve(head.slice(0, end));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`the backend closed the connection; got: ${JSON.stringify(head)}`)));
  });
  socket.write(`GET /api/public/health HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  return done;
}

describe('idle keep-alive connections', () => {
  const { home, backend, release } = workstations();
  afterEach(release);

  it('stay open past Node’s 5 s default, and the backend says for how long (72 s)', async () => {
    const { env } = home();
    const b = await backend([], env);
    const socket = connect(b.port, '127.0.0.1');
    await once(socket, 'connect');
    try {
      const first = await get(socket, b.port);
      expect(first).toMatch(/^HTTP\/1\.1 200 /);
      expect(first).toMatch(/\r\nkeep-alive: timeout=72(\r\n|$)/i);
      await new Promise((r) => setTimeout(r, 6_000));
      expect(await get(socket, b.port)).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      socket.destroy();
    }
  });
});
