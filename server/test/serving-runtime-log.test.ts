import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { registerSecret } from '../src/secrets/redact.js';
import { RuntimeLog } from '../src/serving/runtime-log.js';
import { tempHome, waitFor } from './support/backend-process.js';
import { CANARY } from './support/serving.js';

let cleanup: (() => void) | null = null;
afterEach(() => cleanup?.());

function fresh() {
  const h = tempHome('halo-runtime-log-');
  cleanup = h.cleanup;
  return join(h.home, 'logs', 'runtimes', 'embedded-x.log');
}

describe('a runtime log', () => {
  it('is private, capped and rotated once, and never holds a secret split across chunks', async () => {
    const path = fresh();
    const runtimeKey = 'rk-Secret-Value-Without-A-Known-Shape-42';
    registerSecret(runtimeKey);
    const log = new RuntimeLog(path, 4_096);
    let live = '';
    log.onText((t) => (live += t));
    const out = new PassThrough();
    log.follow(out);
    for (let i = 0; i < 200; i++) {
      const line = `line ${i}: ${CANARY.hfToken} ${runtimeKey} ${CANARY.apiToken}\n`;
      // Cut inside the tokens: a chunk boundary must not let half a secret through.
      out.write(line.slice(0, 20));
      out.write(line.slice(20, 60));
      out.write(line.slice(60));
    }
    out.end();
    await waitFor(() => live.includes('line 199'), 5_000, 'the last line');
    log.close();
    await waitFor(() => existsSync(`${path}.1`), 5_000, 'the rotated file');
    const current = readFileSync(path, 'utf8');
    const rotated = readFileSync(`${path}.1`, 'utf8');
    for (const text of [live, current, rotated]) {
      for (const secret of [CANARY.hfToken, runtimeKey, CANARY.apiToken]) expect(text).not.toContain(secret);
    }
    expect(live).toContain('line 0: hf_[REDACTED] [REDACTED] hfk_[REDACTED]');
    // One rotated file: the log costs at most about twice its cap.
    expect(statSync(`${path}.1`).size).toBeLessThan(4_096 + 200);
    expect(statSync(path).size).toBeLessThan(4_096 + 200);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(log.tail.lines(1)).toContain('line 199');
  });
});
