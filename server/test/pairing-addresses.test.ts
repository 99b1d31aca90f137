import { describe, expect, it } from 'vitest';
import { addressKind, pairingHostname, rankPairingAddresses, type InterfaceAddress } from '../src/net/interfaces.js';

const v4 = (name: string, address: string): InterfaceAddress => ({ name, address, family: 'IPv4' });
const v6 = (name: string, address: string): InterfaceAddress => ({ name, address, family: 'IPv6' });

describe('what kind of address a pairing link would use', () => {
  it.each([
    [v4('eth0', '192.168.1.20'), 'lan'],
    [v4('en0', '10.0.0.5'), 'lan'],
    [v4('wlp3s0', '172.20.10.3'), 'lan'],
    [v6('eth0', '2001:db8::5'), 'lan'],
    [v4('docker0', '172.17.0.1'), 'container'],
    [v4('br-3f2a9c1d7e6b', '172.18.0.1'), 'container'],
    [v4('virbr0', '192.168.122.1'), 'container'],
    [v4('cni0', '10.88.0.1'), 'container'],
    [v4('podman0', '10.88.0.1'), 'container'],
    [v4('vboxnet0', '192.168.56.1'), 'container'],
    [v4('tailscale0', '100.101.102.103'), 'vpn'],
    [v4('wg0', '10.8.0.2'), 'vpn'],
    [v4('tun0', '10.9.0.6'), 'vpn'],
    [v4('utun3', '10.2.0.2'), 'vpn'],
    [v4('ztabcdef12', '10.147.17.4'), 'vpn'],
    // An overlay address on an interface with a neutral name is still the VPN.
    [v4('ens5', '100.64.0.9'), 'vpn'],
    [v6('eth1', 'fd7a:115c:a1e0::1'), 'vpn'],
    // Just outside 100.64.0.0/10.
    [v4('eth0', '100.128.0.1'), 'lan'],
  ] as const)('%j is %s', (iface, kind) => {
    expect(addressKind(iface)).toBe(kind);
  });
});

describe('the host name offered to other devices', () => {
  it.each([
    ['gpu-box', 'gpu-box.local'],
    ['GPU-Box', 'gpu-box.local'],
    ['gpu-box.lab.example.com', 'gpu-box.lab.example.com'],
    ['localhost', null],
    ['', null],
    [null, null],
    ['bad name', null],
  ] as const)('%j → %j', (host, expected) => {
    expect(pairingHostname(host)).toBe(expected);
  });
});

describe('ranking', () => {
  it('puts the name first, then LAN (IPv4 before IPv6), VPN, and container networks last, each labelled', () => {
    const ranked = rankPairingAddresses([v4('docker0', '172.17.0.1'), v4('tailscale0', '100.90.1.2'), v6('eth0', '2001:db8::5'), v4('eth0', '192.168.1.20'), v4('wlan0', '192.168.1.21')], 8000, 'gpu-box');
    expect(ranked).toEqual([
      { url: 'http://gpu-box.local:8000/', kind: 'hostname', label: 'This computer’s name (gpu-box.local)' },
      { url: 'http://192.168.1.20:8000/', kind: 'lan', label: 'Local network (eth0)' },
      { url: 'http://192.168.1.21:8000/', kind: 'lan', label: 'Local network (wlan0)' },
      { url: 'http://[2001:db8::5]:8000/', kind: 'lan', label: 'Local network (eth0)' },
      { url: 'http://100.90.1.2:8000/', kind: 'vpn', label: 'VPN: only for devices on it (tailscale0)' },
      { url: 'http://172.17.0.1:8000/', kind: 'container', label: 'Container or virtual network: other devices cannot use it (docker0)' },
    ]);
  });

  it('offers no name when listening on one interface only, and nothing for no addresses', () => {
    expect(rankPairingAddresses([v4('eth0', '192.168.1.20')], 8000, null).map((a) => a.kind)).toEqual(['lan']);
    expect(rankPairingAddresses([], 8000, null)).toEqual([]);
  });
});
