import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { buildChildEnv } from '../src/secrets/child-env.js';
import { createHfAccess } from '../src/secrets/hf-access.js';
import { redactingLines } from '../src/secrets/redact-stream.js';
import { tempHome, testEnv } from './support/backend-process.js';

const TOKEN = 'hf_CANARYchildEnvToken0123456789abcdefgh';
const API_TOKEN = 'hfk_CANARYapiTokenNeverForChildren0123456789abcdefgh';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

describe('the environment of a launched process', () => {
  it.each([
    ['adds HF_TOKEN from the resolved source', { PATH: '/bin' }, TOKEN, { PATH: '/bin', HF_TOKEN: TOKEN }],
    ['withholds the API token and the legacy variable', { PATH: '/bin', HALOFORGE_API_TOKEN: API_TOKEN, HUGGING_FACE_HUB_TOKEN: TOKEN }, TOKEN, { PATH: '/bin', HF_TOKEN: TOKEN }],
    ['passes no HF_TOKEN when none resolved, even one the parent had', { PATH: '/bin', HF_TOKEN: 'hf_stale' }, null, { PATH: '/bin' }],
    ['keeps harmless settings such as HF_HOME and HF_ENDPOINT', { HF_HOME: '/hf', HF_ENDPOINT: 'http://mirror' }, TOKEN, { HF_HOME: '/hf', HF_ENDPOINT: 'http://mirror', HF_TOKEN: TOKEN }],
  ])('%s', (_name, base, token, expected) => {
    expect(buildChildEnv(base, token)).toEqual(expected);
  });

  it('takes the token from wherever it resolves: the saved file here', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const env = testEnv(home, { HALOFORGE_KEYRING: 'off', HALOFORGE_API_TOKEN: API_TOKEN });
    const hf = createHfAccess({ env, audit: null, autoVerify: false });
    expect((await hf.childEnv()).HF_TOKEN).toBeUndefined();
    await hf.save({ token: TOKEN, verify: false });
    const child = await hf.childEnv();
    expect(child.HF_TOKEN).toBe(TOKEN);
    expect(child.HALOFORGE_API_TOKEN).toBeUndefined();
  });
});

describe('redacting what a child prints', () => {
  it('masks a token a child echoes, in the log file the workstation writes', async () => {
    const { home, cleanup } = tempHome();
    cleanups.push(cleanup);
    const log = join(home, 'serve.log');
    const child = spawn(process.execPath, ['-e', 'console.log("loading with token " + process.env.HF_TOKEN); console.error("auth header: Bearer " + process.env.HF_TOKEN)'], {
      env: buildChildEnv({ PATH: process.env.PATH }, TOKEN),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = createWriteStream(log);
    await Promise.all([pipeline(child.stdout!, redactingLines(), out, { end: false }), pipeline(child.stderr!, redactingLines(), createWriteStream(log, { flags: 'a' }))]);
    out.end();
    await new Promise<void>((r) => out.once('close', () => r()));
    const text = readFileSync(log, 'utf8');
    expect(text).not.toContain(TOKEN.slice(3));
    // buildChildEnv registered the value, so it is masked whole, prefix included.
    expect(text).toBe('loading with token [REDACTED]\nauth header: Bearer [REDACTED]\n');
  });

  it('masks a token of any shape once it is the resolved token', async () => {
    const odd = 'legacy-secret-value-7f3a9c';
    buildChildEnv({}, odd);
    expect(await collect(['value=', odd, '\n'])).toBe('value=[REDACTED]\n');
  });

  // A token-shaped value nobody registered: only the pattern can catch it.
  const STRAY = 'hf_CANARYstrayTokenNeverRegistered012345';
  it.each(Array.from({ length: STRAY.length + 1 }, (_, i) => i))('masks a token split across chunks at offset %i', async (cut) => {
    const line = `token ${STRAY} end\n`;
    const at = 6 + cut;
    expect(await collect([line.slice(0, at), line.slice(at)])).toBe('token hf_[REDACTED] end\n');
  });

  it('passes a last line without a newline through, redacted', async () => {
    expect(await collect(['first\nsecond ', STRAY])).toBe('first\nsecond hf_[REDACTED]');
  });

  it('cuts a line longer than 64 KiB between words, never inside a token', async () => {
    // The token straddles the 64 KiB mark, where a blind cut would split it into two unmaskable halves.
    const filler = 'a '.repeat(32_763);
    expect(await collect([filler, STRAY, ' tail\n'])).toBe(`${filler}hf_[REDACTED] tail\n`);
  });
});

async function collect(chunks: string[]): Promise<string> {
  let out = '';
  const sink = redactingLines();
  sink.on('data', (d: Buffer) => (out += d.toString()));
  await pipeline(Readable.from(chunks.map((c) => Buffer.from(c))), sink);
  return out;
}
