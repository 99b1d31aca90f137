import { BlockList } from 'node:net';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import type { AddressKind, PairingAddress } from '../../../shared/api.js';
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

// Interface names that container runtimes, hypervisors and VPNs create. A
// phone on the LAN cannot use a container bridge's address, and a VPN address
// works only for devices on that VPN: both are marked, and ranked last.
const CONTAINER_NAME = /^(docker\d*|br-[0-9a-f]+|veth|cni\d*|flannel|cali|podman\d*|virbr\d*|lxcbr\d*|lxdbr\d*|vethernet|vboxnet\d*|vmnet\d*|kube)/i;
const VPN_NAME = /^(tun\d*|tap\d*|wg\d*|tailscale\d*|utun\d*|zt[0-9a-z]*|ppp\d*|ipsec\d*|nordlynx|proton\d*|mullvad)/i;

// Tailscale and other carrier-grade-NAT overlays hand out 100.64.0.0/10 (and fd7a:115c:a1e0::/48 for IPv6).
const OVERLAY = new BlockList();
OVERLAY.addSubnet('100.64.0.0', 10, 'ipv4');
OVERLAY.addSubnet('fd7a:115c:a1e0::', 48, 'ipv6');

export function addressKind(iface: InterfaceAddress): Exclude<AddressKind, 'hostname'> {
  if (CONTAINER_NAME.test(iface.name)) return 'container';
  if (VPN_NAME.test(iface.name) || OVERLAY.check(iface.address, iface.family === 'IPv6' ? 'ipv6' : 'ipv4')) return 'vpn';
  return 'lan';
}

const RANK: Record<AddressKind, number> = { hostname: 0, lan: 1, vpn: 2, container: 3 };
const LABEL: Record<AddressKind, string> = {
  hostname: 'This computer’s name',
  lan: 'Local network',
  vpn: 'VPN: only for devices on it',
  container: 'Container or virtual network: other devices cannot use it',
};

/** The name another device may use: a bare host name is offered as its mDNS (.local) form, which LAN devices resolve. */
export function pairingHostname(host: string | null): string | null {
  const name = host?.trim().toLowerCase();
  if (!name || name === 'localhost' || !/^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(name)) return null;
  return name.includes('.') ? name : `${name}.local`;
}

/**
 * Addresses for a pairing link, labelled and best first: the machine's name
 * (it survives a DHCP lease change), then LAN addresses (IPv4 before IPv6),
 * then VPN, then container and VM bridges. `hostname` only when listening on
 * every interface: a name says nothing about which address it resolves to.
 */
export function rankPairingAddresses(addresses: InterfaceAddress[], port: number, hostname: string | null): PairingAddress[] {
  const named = pairingHostname(hostname);
  const out: (PairingAddress & { order: number })[] = named ? [{ url: urlFor(named, port), kind: 'hostname', label: `${LABEL.hostname} (${named})`, order: 0 }] : [];
  for (const a of addresses) {
    const kind = addressKind(a);
    out.push({ url: urlFor(a.address, port), kind, label: `${LABEL[kind]} (${a.name})`, order: RANK[kind] * 10 + (a.family === 'IPv4' ? 0 : 1) });
  }
  return out
    .map((a, i) => ({ a, i }))
    .sort((x, y) => x.a.order - y.a.order || x.i - y.i)
    .map(({ a: { order: _order, ...address } }) => address);
}

export function systemHostname(): string | null {
  try {
    return osHostname();
  } catch {
    return null;
  }
}
