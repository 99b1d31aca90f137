import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiFailure } from '../src/api/failure';
import { keepFollowing, type KeepFollowingOptions } from '../src/api/live-stream';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** A stream whose each connection the test settles by hand; `log` is what the screen heard. */
function rig(overrides: Partial<KeepFollowingOptions> = {}) {
  const log: string[] = [];
  const connections: { signal: AbortSignal; opened: () => void; end: () => void; fail: (err: unknown) => void }[] = [];
  const stop = keepFollowing({
    follow: (signal, opened) =>
      new Promise<void>((resolve, reject) => {
        connections.push({ signal, opened, end: resolve, fail: reject });
      }),
    onState: (state) => log.push(state),
    onOpen: () => log.push('open'),
    onStopped: (failure) => log.push(`stopped ${failure.status}`),
    onFailure: () => log.push('failure'),
    ...overrides,
  });
  return { log, connections, stop, last: () => connections.at(-1)! };
}

const settle = () => vi.advanceTimersByTimeAsync(0);

describe('following a stream', () => {
  it('reconnects after a drop with a growing wait, and a successful open starts the waits over', async () => {
    const s = rig({ retryMs: [1_000, 5_000] });
    s.last().opened();
    s.last().end();
    await settle();
    expect(s.log).toEqual(['connecting', 'live', 'open', 'reconnecting']);
    await vi.advanceTimersByTimeAsync(999);
    expect(s.connections).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(s.connections).toHaveLength(2);
    s.last().fail(new ApiFailure('network', 'gone'));
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(s.connections).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(4_000);
    expect(s.connections).toHaveLength(3);
    s.last().opened();
    s.last().end();
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(s.connections).toHaveLength(4);
    s.stop();
  });

  it.each([401, 403])('stops for good on %i (a revoked or expired token is refused on reconnection)', async (status) => {
    const s = rig();
    s.last().fail(new ApiFailure('http', 'refused', status));
    await settle();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.connections).toHaveLength(1);
    expect(s.log).toEqual(['connecting', `stopped ${status}`]);
  });

  it('retries a 404 unless told it is final', async () => {
    const retried = rig();
    retried.last().fail(new ApiFailure('http', 'not found', 404));
    await settle();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(retried.connections).toHaveLength(2);
    retried.stop();

    const final = rig({ stopOn: [401, 403, 404] });
    final.last().fail(new ApiFailure('http', 'not found', 404));
    await settle();
    expect(final.log.at(-1)).toBe('stopped 404');
  });

  it('does not reconnect a stream that has said its last word', async () => {
    let ended = false;
    const s = rig({ finished: () => ended, onFinished: () => s.log.push('finished') });
    s.last().opened();
    ended = true;
    s.last().end();
    await settle();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.connections).toHaveLength(1);
    expect(s.log).toEqual(['connecting', 'live', 'open', 'finished']);
  });

  it('once stopped, aborts the connection and never reconnects', async () => {
    const s = rig();
    s.last().end();
    await settle();
    s.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(s.connections).toHaveLength(1);

    const open = rig();
    open.stop();
    expect(open.last().signal.aborted).toBe(true);
    open.last().fail(new DOMException('aborted', 'AbortError'));
    await settle();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(open.connections).toHaveLength(1);
    expect(open.log).toEqual(['connecting']);
  });
});
