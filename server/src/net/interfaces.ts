import { networkInterfaces } from 'node:os';
import { isLoopbackAddress } from '../auth/local-pass.js';

export interface InterfaceAddress {
  name: string;
  address: string;
  family: 'IPv4' | 'IPv6';
}

/** Addresses a remote client could use to reach this machine (link-local IPv6 left out: it needs a zone). */
export function externalAddresses(): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.internal || isLoopbackAddress(info.address)) continue;
      if (info.family === 'IPv6' && /^fe80:/i.test(info.address)) continue;
      out.push({ name, address: info.address, family: info.family });
    }
  }
  return out;
}

export function urlFor(address: string, port: number): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}/`;
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}
