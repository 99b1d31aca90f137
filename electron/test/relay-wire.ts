import { MainProcessBridge } from '../../server/src/children/main-bridge.js';
import type { ChildEvent, ChildRequest } from '../../shared/ipc.js';
import { ChildRelay, type ForkEntry } from '../child-relay.js';

/**
 * The main process's relay and the backend's bridge, joined in memory as the
 * app joins them over parentPort: every message is copied (as postMessage
 * would) and delivered on a later turn. `sent` is everything the relay sent
 * the backend, as text, for canary checks.
 */
export function wireRelay(opts: { fork: ForkEntry; backendDir: string; killAfterMs?: number }): { relay: ChildRelay; bridge: MainProcessBridge; sent: string[] } {
  const sent: string[] = [];
  let deliver: (event: ChildEvent) => void = () => {};
  const relay = new ChildRelay({
    fork: opts.fork,
    backendDir: opts.backendDir,
    killAfterMs: opts.killAfterMs,
    send: (event) => {
      sent.push(JSON.stringify(event));
      const copy = structuredClone(event);
      setImmediate(() => deliver(copy));
    },
  });
  const bridge = new MainProcessBridge({
    post: (request: ChildRequest) => {
      const copy = structuredClone(request);
      setImmediate(() => relay.handle(copy));
    },
    onEvent: (listener) => (deliver = listener),
  });
  return { relay, bridge, sent };
}
