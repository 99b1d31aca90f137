import type { IncomingMessage, RequestListener, Server } from 'node:http';
import { createHttpServer } from './http-server.js';
import type { Socket } from 'node:net';
import type { RemoteAccess } from '../../../shared/api.js';
import { isLoopbackAddress } from '../auth/local-pass.js';
import { httpError } from '../errors.js';
import { externalAddresses, isWildcard, rankPairingAddresses, systemHostname, urlFor, type InterfaceAddress } from './interfaces.js';

export interface ExposureOptions {
  bindHost: string;
  bindPort: () => number;
  handler: () => RequestListener;
  hasTokens: () => boolean;
  /** With --auth off, remote access would serve the whole API to the network with no check at all. */
  authOff: boolean;
  insecureNoAuth: boolean;
}

/**
 * Remote access at runtime. A loopback-bound server adds (or removes) a
 * listener on the LAN addresses beside its loopback one, on the same port:
 * the local window keeps working through loopback, and remote clients meet
 * the token gate the moment the listener exists. A server started with a
 * non-loopback --host is exposed by its command line and cannot be switched.
 */
export class Exposure {
  private servers: Server[] = [];
  private remoteSockets = new WeakSet<Socket>();
  private current: { interface: string; port: number; addresses: string[] } | null = null;
  /** Every change waits for the one before it: two overlapping enables must not leave a listener nobody tracks. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: ExposureOptions) {}

  get fixed(): boolean {
    return !isLoopbackAddress(this.opts.bindHost) && this.opts.bindHost !== 'localhost';
  }

  /** True when the request arrived on a remote-access listener. */
  isRemote(request: IncomingMessage): boolean {
    return this.remoteSockets.has(request.socket);
  }

  state(): RemoteAccess {
    const port = this.opts.bindPort();
    if (this.fixed) {
      const host = this.opts.bindHost;
      const wildcard = isWildcard(host);
      const addresses = wildcard ? externalAddresses().map((a) => a.address) : [host];
      return { enabled: true, fixed: true, interface: host, port, urls: addresses.map((a) => urlFor(a, port)), addresses: pairingAddresses(addresses, port, wildcard), needsToken: !this.opts.hasTokens() };
    }
    if (!this.current) return { enabled: false, fixed: false, interface: 'all', port, urls: [], addresses: [], needsToken: false };
    return {
      enabled: true,
      fixed: false,
      interface: this.current.interface,
      port: this.current.port,
      urls: this.current.addresses.map((a) => urlFor(a, this.current!.port)),
      addresses: pairingAddresses(this.current.addresses, this.current.port, this.current.interface === 'all'),
      needsToken: !this.opts.hasTokens(),
    };
  }

  enable(iface = 'all', port: number | null = null): Promise<RemoteAccess> {
    return this.serialized(() => this.applyEnable(iface, port));
  }

  disable(): Promise<RemoteAccess> {
    return this.serialized(() => this.applyDisable());
  }

  /**
   * The remote-access switch: applies the change and then `record`s it (config
   * file, audit, tray) as one step, so the saved choice always matches what
   * is actually listening, however requests overlap.
   */
  set(wanted: { enabled: boolean; interface: string; port: number | null }, record: (state: RemoteAccess) => Promise<void> | void): Promise<RemoteAccess> {
    return this.serialized(async () => {
      const before = this.current;
      const state = wanted.enabled ? await this.applyEnable(wanted.interface, wanted.port) : await this.applyDisable();
      try {
        await record(state);
      } catch (err) {
        // Not saved (a full or read-only disk): go back to what was listening,
        // so the switch never shows a state the next launch would not restore.
        await (before ? this.applyEnable(before.interface, before.port) : this.applyDisable()).catch(() => undefined);
        throw err;
      }
      return state;
    });
  }

  private serialized<T>(change: () => Promise<T>): Promise<T> {
    const next = this.queue.then(change, change);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async applyEnable(iface: string, port: number | null): Promise<RemoteAccess> {
    if (this.fixed) throw httpError(409, 'exposure.fixed', `Remote access is set by the command line (--host ${this.opts.bindHost}); restart without it to use the switch.`);
    if (this.opts.authOff && !this.opts.insecureNoAuth) {
      throw httpError(409, 'exposure.failed', 'Authentication is off (--auth off): remote access would let anyone on the network operate this workstation. Restart without --auth off; remote clients then need a token.');
    }
    const wanted = port ?? this.opts.bindPort();
    const addresses = this.addressesFor(iface);
    if (this.current && this.current.interface === iface && this.current.port === wanted && sameList(this.current.addresses, addresses)) return this.state();
    await this.applyDisable();
    const started: Server[] = [];
    try {
      for (const address of addresses) started.push(await this.listen(address, wanted));
    } catch (err) {
      await Promise.all(started.map(closeServer));
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? `port ${wanted} is already in use there` : code === 'EADDRNOTAVAIL' ? 'that address is not on this machine' : (err as Error).message;
      throw httpError(409, 'exposure.failed', `Could not open remote access on ${addresses.join(', ')}: ${why}.`);
    }
    this.servers = started;
    this.current = { interface: iface, port: wanted, addresses };
    return this.state();
  }

  private async applyDisable(): Promise<RemoteAccess> {
    if (this.fixed) throw httpError(409, 'exposure.fixed', `Remote access is set by the command line (--host ${this.opts.bindHost}); restart without it to turn it off.`);
    const servers = this.servers;
    this.servers = [];
    this.current = null;
    await Promise.all(servers.map(closeServer));
    return this.state();
  }

  async close(): Promise<void> {
    if (!this.fixed) await this.disable();
  }

  private addressesFor(iface: string): string[] {
    const external = externalAddresses();
    if (iface === 'all') {
      if (external.length === 0) throw httpError(409, 'exposure.failed', 'This machine has no network interface besides loopback; there is nothing to expose on.');
      return external.map((a) => a.address);
    }
    const match = external.find((a) => a.address === iface || a.name === iface);
    if (!match) {
      const known = external.map((a) => `${a.name} (${a.address})`).join(', ') || 'none';
      throw httpError(400, 'request.invalid', `"${iface}" is not a network interface of this machine; known: ${known}.`);
    }
    return [match.address];
  }

  private listen(address: string, port: number): Promise<Server> {
    return new Promise((resolve, reject) => {
      const handler = this.opts.handler();
      const server = createHttpServer((req, res) => handler(req, res));
      server.on('connection', (socket) => this.remoteSockets.add(socket));
      server.once('error', reject);
      server.listen({ host: address, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Keep-alive clients would hold the port open; a closed switch closes now.
    server.closeAllConnections();
  });
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The listening addresses as a person picks one: labelled by their interface, ranked, the machine's name first. */
function pairingAddresses(listening: string[], port: number, everyInterface: boolean) {
  const known = externalAddresses();
  const described: InterfaceAddress[] = listening.map((address) => known.find((a) => a.address === address) ?? { name: 'unknown', address, family: address.includes(':') ? 'IPv6' : 'IPv4' });
  return rankPairingAddresses(described, port, everyInterface ? systemHostname() : null);
}
