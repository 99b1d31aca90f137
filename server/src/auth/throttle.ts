import { isIP } from 'node:net';

/**
 * One IPv6 host usually owns a whole /64, so counting per /128 would let it
 * rotate addresses forever; IPv4 addresses count one by one.
 */
export function throttleKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/**
 * Counts failed authentications per client address. After `limit` failures
 * inside `windowMs`, that address alone is told to wait; every other client,
 * and a local user without a token, is unaffected.
 */
export class FailureThrottle {
  private entries = new Map<string, { count: number; windowStart: number; blockedUntil: number }>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly maxTracked = 10_000,
  ) {}

  /** Seconds the address must wait, or 0. */
  retryAfter(address: string, now = Date.now()): number {
    const e = this.entries.get(throttleKey(address));
    if (!e || e.blockedUntil <= now) return 0;
    return Math.ceil((e.blockedUntil - now) / 1000);
  }

  /** Records a failure; returns true when this failure is the one that blocks the address. */
  recordFailure(address: string, now = Date.now()): boolean {
    address = throttleKey(address);
    let e = this.entries.get(address);
    if (!e || now - e.windowStart >= this.windowMs) {
      if (!e && this.entries.size >= this.maxTracked) this.evictOldest();
      e = { count: 0, windowStart: now, blockedUntil: 0 };
      this.entries.set(address, e);
    }
    e.count++;
    if (e.count >= this.limit && e.blockedUntil <= now) {
      e.blockedUntil = e.windowStart + this.windowMs;
      return true;
    }
    return false;
  }

  /** True for the first failure of an address in its window: what is worth an audit line. */
  isFirstInWindow(address: string): boolean {
    return this.entries.get(throttleKey(address))?.count === 1;
  }

  private evictOldest(): void {
    const first = this.entries.keys().next();
    if (!first.done) this.entries.delete(first.value);
  }
}
