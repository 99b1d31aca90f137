import { spawn } from 'node:child_process';
import { waitFor } from './backend-process.js';

// An HTTPS client in its own process: inside a network namespace it is a
// laptop on the LAN; without one, it is a client on this machine reaching the
// proxy by its link address. It trusts only the test certificate and sends
// the site's name in SNI and Host, as a browser would. The plan (tokens
// included) goes in on stdin, never on a command line.

export interface ProxyEndpoint {
  /** The proxy's address and port, and the name its certificate is for. */
  address: string;
  port: number;
  hostname: string;
  ca: string;
  /** Run inside this network namespace; absent: on this machine. */
  netns?: string;
}

export interface ClientRequest {
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ClientReply {
  /** 0 when no HTTP answer came; `body` then says why. */
  status: number;
  /** What the proxy chose over TLS (ALPN): "h2" or "http/1.1". */
  protocol?: string;
  headers: Record<string, string>;
  /** Parsed JSON, or the text when it is not JSON. */
  body: any;
}

const CLIENT = String.raw`
const tls = require('node:tls');
const https = require('node:https');
const http2 = require('node:http2');
let input = '';
process.stdin.on('data', (d) => (input += d)).on('end', async () => {
  const plan = JSON.parse(input);
  const print = (value) => process.stdout.write(JSON.stringify(value) + '\n');
  const fail = (e) => ({ status: 0, headers: {}, body: 'ERR ' + (e.code || e.message) });
  const authority = plan.hostname + ':' + plan.port;
  const tlsOptions = { host: plan.address, port: plan.port, servername: plan.hostname, ca: plan.ca };

  // Offer h2 and HTTP/1.1 and speak what the proxy picks, as a browser does.
  const probe = tls.connect({ ...tlsOptions, ALPNProtocols: ['h2', 'http/1.1'] });
  const negotiated = await new Promise((resolve) => {
    probe.once('secureConnect', () => resolve(probe.alpnProtocol || 'http/1.1'));
    probe.once('error', (e) => resolve(e));
  });
  if (negotiated instanceof Error) {
    if (plan.stream) { print({ error: negotiated.code || negotiated.message }); process.exit(1); }
    return print(plan.requests.map(() => fail(negotiated)));
  }
  let session = null;
  let agent = null;
  if (negotiated === 'h2') session = http2.connect('https://' + authority, { createConnection: () => probe });
  else { probe.destroy(); agent = new https.Agent({ keepAlive: true, maxSockets: 1 }); }

  // Calls back with (status, headers) once, then with each chunk, then end.
  const exchange = (r, onResponse, onData, onEnd, onError) => {
    const headers = { host: authority, ...(r.body === undefined ? {} : { 'content-type': 'application/json' }), ...r.headers };
    const body = r.body === undefined ? undefined : JSON.stringify(r.body);
    if (session) {
      const { host, ...rest } = headers;
      const req = session.request({ ':method': r.method || 'GET', ':path': r.path, ':authority': host, ...rest });
      req.setEncoding('utf8');
      req.on('response', (h) => { const { ':status': status, ...others } = h; onResponse(status, others); });
      req.on('data', onData).on('end', onEnd).on('error', onError);
      req.end(body);
    } else {
      const req = https.request({ ...tlsOptions, agent, method: r.method || 'GET', path: r.path, headers }, (res) => {
        res.setEncoding('utf8');
        onResponse(res.statusCode, res.headers);
        res.on('data', onData).on('end', onEnd).on('error', onError);
      });
      req.on('error', onError);
      req.end(body);
    }
  };

  if (plan.stream) {
    return exchange(
      plan.requests[0],
      (status) => print({ status, protocol: negotiated }),
      (chunk) => print({ chunk }),
      () => { print({ end: true }); process.exit(0); },
      (e) => { print({ error: e.code || e.message }); process.exit(1); },
    );
  }
  const call = (r) => new Promise((resolve) => {
    let reply = null;
    let text = '';
    const timer = setTimeout(() => resolve(fail(new Error('no answer in 10 s'))), 10000);
    exchange(
      r,
      (status, headers) => (reply = { status, protocol: negotiated, headers }),
      (chunk) => (text += chunk),
      () => {
        clearTimeout(timer);
        let body = text;
        try { body = JSON.parse(text); } catch {}
        resolve({ ...reply, body });
      },
      (e) => { clearTimeout(timer); resolve(fail(e)); },
    );
  });
  const replies = [];
  for (const r of plan.requests) replies.push(await call(r));
  print(replies);
  if (session) session.close();
  if (agent) agent.destroy();
});
`;

function launch(endpoint: ProxyEndpoint, plan: object) {
  const argv = [process.execPath, '-e', CLIENT];
  const child = endpoint.netns ? spawn('ip', ['netns', 'exec', endpoint.netns, ...argv]) : spawn(argv[0]!, argv.slice(1));
  child.stdin.end(JSON.stringify({ address: endpoint.address, port: endpoint.port, hostname: endpoint.hostname, ca: endpoint.ca, ...plan }));
  return child;
}

/** Sends the requests one after another over one keep-alive connection. */
export function requestThroughProxy(endpoint: ProxyEndpoint, requests: ClientRequest[]): Promise<ClientReply[]> {
  return new Promise((resolve, reject) => {
    const child = launch(endpoint, { requests });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      try {
        resolve(JSON.parse(out) as ClientReply[]);
      } catch {
        reject(new Error(`the HTTPS client exited with ${code} and no answer: ${err.trim()}`));
      }
    });
  });
}

/** One request through the proxy. */
export async function requestOnce(endpoint: ProxyEndpoint, request: ClientRequest): Promise<ClientReply> {
  return (await requestThroughProxy(endpoint, [request]))[0]!;
}

export interface OpenStream {
  /** The status line's code once it arrived (0 before). */
  status(): number;
  /** The protocol the proxy chose, once the response began. */
  protocol(): string | undefined;
  /** Everything received so far. */
  text(): string;
  ended(): boolean;
  /** Waits until the received text contains `needle`. */
  waitForText(needle: string, timeoutMs: number, what: string): Promise<void>;
  close(): Promise<void>;
}

/** Opens a long-lived response (an event stream) and records each chunk as it arrives. */
export function openStream(endpoint: ProxyEndpoint, request: ClientRequest): OpenStream {
  const child = launch(endpoint, { stream: true, requests: [request] });
  let status = 0;
  let protocol: string | undefined;
  let text = '';
  let ended = false;
  let failure = '';
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      const event = JSON.parse(line) as { status?: number; protocol?: string; chunk?: string; end?: true; error?: string };
      if (event.status !== undefined) status = event.status;
      if (event.protocol !== undefined) protocol = event.protocol;
      if (event.chunk !== undefined) text += event.chunk;
      if (event.end) ended = true;
      if (event.error) failure = event.error;
    }
  });
  child.stderr.on('data', (d: Buffer) => (failure += d.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    status: () => status,
    protocol: () => protocol,
    text: () => text,
    ended: () => ended,
    waitForText: async (needle, timeoutMs, what) => {
      await waitFor(
        () => {
          if (failure) throw new Error(`the stream failed: ${failure}`);
          if (text.includes(needle)) return true;
          if (ended) throw new Error(`the stream ended before ${what}`);
          return false;
        },
        timeoutMs,
        what,
      );
    },
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await closed;
    },
  };
}
