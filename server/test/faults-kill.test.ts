// SIGKILL at random moments while the server and CLI processes write the
// token store, the Hugging Face secret file and config.json. A kill can land
// anywhere: inside the lock, between the temp file and the rename, mid-flush.
// What a client was told stands: a token reported created exists and works,
// one reported revoked stays gone; every file is the old or the new whole
// content, 0600, and nothing in the home is open to other users.
//
// concurrency.test.ts proves that live processes lose nothing; this file
// proves that dead ones, killed mid-write, break nothing.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_HUB_TOKENS, startFakeHub, type FakeHub } from '../../e2e/support/fake-hub.js';
import { parseStore } from '../src/auth/token-store.js';
import { SettingsFile } from '../src/config/settings.js';
import { startBackend, workstations, type BackendProcess } from './support/backend-process.js';
import { addressPool, call, killHard, looseModes, seededRandom, sleep, startCli, type CliRun } from './support/faults.js';

const { home: newHome, release } = workstations();
afterEach(release);

const backends: BackendProcess[] = [];
const clis: CliRun[] = [];
afterEach(async () => {
  for (const b of backends.splice(0)) await killHard(b.child);
  for (const c of clis.splice(0)) await killHard(c.child);
});

let hub: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub();
});
afterAll(() => hub.close());

async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<BackendProcess> {
  const b = await startBackend(args, env, 30_000);
  backends.push(b);
  return b;
}

function cli(args: string[], env: NodeJS.ProcessEnv, input?: string): CliRun {
  const run = startCli(args, env, input);
  clis.push(run);
  return run;
}

/** Temp files of killed writers, and locks, found beside `file` right now. */
function leftovers(file: string): string[] {
  const dir = join(file, '..');
  const base = file.slice(dir.length + 1);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((n) => n.startsWith(`.${base}.`) || n.startsWith(`${base}.lock`));
}

/** True when the process `pid` was killed inside a write of `file`: its temp file or its lock is still there. */
function cutOffMidWrite(file: string, pid: number | undefined): boolean {
  const base = file.slice(join(file, '..').length + 1);
  return leftovers(file).some((n) => {
    if (n.startsWith(`.${base}.${pid}.`)) return true;
    if (n !== `${base}.lock`) return false;
    try {
      return JSON.parse(readFileSync(`${file}.lock`, 'utf8')).pid === pid;
    } catch {
      return false; // gone meanwhile, or empty: the owner was killed before it could write its pid
    }
  });
}

/** Runs `check` over `items`, 16 at a time. */
async function inBatches<T>(items: T[], check: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(check));
}

describe('SIGKILL while API tokens are created, revoked and used', () => {
  it('leaves a valid store that keeps every confirmed token and no revoked one, round after round', { timeout: 120_000 }, async () => {
    const rand = seededRandom(0x5eedfa17);
    // At least this many rounds, and more (up to the cap) until a kill has landed mid-write.
    const ROUNDS = 10;
    const MAX_ROUNDS = 30;
    const { home, env: base } = newHome();
    // Flush last-used every 25 ms instead of every 5 s, so kills land mid-flush too.
    const env = { ...base, HALOFORGE_LAST_USED_FLUSH_MS: '25' };
    const storePath = join(home, 'tokens.json');

    const boot = await cli(['token', 'create', 'admin', '--json'], env).done;
    expect(boot.code).toBe(0);
    const admin = JSON.parse(boot.stdout).token as string;

    /** Reported created and not (yet) revoked. */
    const live = new Map<string, string>();
    /** Reported revoked. */
    const revoked = new Map<string, string>();
    /** Revoke sent, answer lost to a kill: either outcome is fine, but it must be one of them. */
    const undecided = new Map<string, string>();
    /** Create sent, answer lost: the secret never reached anyone, so it can only be seen in the file. */
    const orphans = new Set<string>();
    const stats = { rounds: 0, apiCreated: 0, cliCreated: 0, apiRevoked: 0, cliRevoked: 0, cliKilled: 0, used: 0, serverKilledMidWrite: 0, cliKilledMidWrite: 0, resolvedRevoked: 0, resolvedLive: 0 };
    const failing = addressPool(3);
    const users = addressPool(2);
    let serial = 0;

    /** With a fresh server on the store the last round left. */
    async function checkClaims(port: number, round: number): Promise<void> {
      const names = new Set(parseStore(storePath, readFileSync(storePath, 'utf8')).tokens.map((t) => t.name));
      for (const [name, secret] of undecided) {
        const works = (await call(port, 'GET', '/health', { token: secret, from: failing() })).status === 200;
        expect(works, `round ${round}: "${name}" (revoke unanswered) works iff it is in the file`).toBe(names.has(name));
        (works ? live : revoked).set(name, secret);
        if (works) stats.resolvedLive++;
        else stats.resolvedRevoked++;
      }
      undecided.clear();
      expect(names.has('admin')).toBe(true);
      await inBatches([...live], async ([name, secret]) => {
        expect(names.has(name), `round ${round}: "${name}" was reported created`).toBe(true);
        expect((await call(port, 'GET', '/health', { token: secret })).status, `round ${round}: "${name}" authenticates`).toBe(200);
      });
      await inBatches([...revoked], async ([name, secret]) => {
        expect(names.has(name), `round ${round}: "${name}" was reported revoked`).toBe(false);
        expect((await call(port, 'GET', '/health', { token: secret, from: failing() })).status, `round ${round}: "${name}" is refused`).toBe(401);
      });
      for (const name of names) expect(live.has(name) || orphans.has(name) || name === 'admin', `round ${round}: "${name}" in the file was never created`).toBe(true);
      expect(looseModes(home), `round ${round}: nothing open to other users`).toEqual([]);
    }

    function noteCliKill(run: CliRun): void {
      stats.cliKilled++;
      if (cutOffMidWrite(storePath, run.child.pid)) stats.cliKilledMidWrite++;
    }

    /** A token to revoke, taken out of `live` so no two revokers race for it. */
    function takeVictim(): [string, string] | null {
      const names = [...live.keys()];
      if (names.length < 3) return null;
      const name = rand.pick(names);
      const secret = live.get(name)!;
      live.delete(name);
      undecided.set(name, secret);
      return [name, secret];
    }

    for (let round = 0; ; round++) {
      const server = await serve(['--auth', 'on'], env);
      await checkClaims(server.port, round);
      if (round >= ROUNDS && ((stats.serverKilledMidWrite + stats.cliKilledMidWrite > 0 && stats.cliKilled > 0) || round === MAX_ROUNDS)) {
        // One more write lets the last writer sweep what killed ones left behind.
        expect((await call(server.port, 'POST', '/tokens', { token: admin, body: { name: 'final' } })).status).toBe(201);
        // Stopped first: a running server's own last_used flush (every 25 ms here) holds the lock for a moment.
        await server.stop();
        expect(leftovers(storePath), 'temp files of killed writers and stale locks are gone after a clean write').toEqual([]);
        break;
      }
      stats.rounds++;
      const killAt = rand.between(250, 1400);
      const startedAt = Date.now();
      const running = () => Date.now() - startedAt < killAt + 2_000;
      const port = server.port;

      const apiCreator = async () => {
        while (running()) {
          const name = `a${serial++}`;
          orphans.add(name);
          const res = await call(port, 'POST', '/tokens', { token: admin, body: { name, scope: rand.pick(['admin', 'read']) } }).catch(() => null);
          if (!res) return;
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          orphans.delete(name);
          live.set(name, res.body.token);
          stats.apiCreated++;
        }
      };
      const apiRevoker = async () => {
        while (running()) {
          const victim = takeVictim();
          if (!victim) {
            await sleep(20);
            continue;
          }
          const res = await call(port, 'DELETE', `/tokens/${victim[0]}`, { token: admin }).catch(() => null);
          if (!res) return;
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          undecided.delete(victim[0]);
          revoked.set(...victim);
          stats.apiRevoked++;
        }
      };
      // Authenticated requests: each marks its token used, and the server flushes that every 25 ms.
      const user = async () => {
        while (running()) {
          const secrets = [admin, ...live.values()];
          const res = await call(port, 'GET', '/auth/session', { token: rand.pick(secrets), from: users() }).catch(() => null);
          if (!res) return;
          stats.used++;
        }
      };
      const cliCreate = async (delay: number, killAfter: number | null) => {
        await sleep(delay);
        const name = `c${serial++}`;
        orphans.add(name);
        const run = cli(['token', 'create', name, '--json'], env);
        if (killAfter !== null) setTimeout(() => run.child.kill('SIGKILL'), killAfter);
        const out = await run.done;
        if (out.signal === 'SIGKILL') return void noteCliKill(run);
        expect(out.code, out.stderr).toBe(0);
        orphans.delete(name);
        live.set(name, JSON.parse(out.stdout).token);
        stats.cliCreated++;
      };
      const cliRevoke = async (delay: number, killAfter: number | null) => {
        await sleep(delay);
        const victim = takeVictim();
        if (!victim) return;
        const run = cli(['token', 'revoke', victim[0]], env);
        if (killAfter !== null) setTimeout(() => run.child.kill('SIGKILL'), killAfter);
        const out = await run.done;
        if (out.signal === 'SIGKILL') return void noteCliKill(run);
        expect([out.code, out.stderr]).toEqual([0, '']);
        undecided.delete(victim[0]);
        revoked.set(...victim);
        stats.cliRevoked++;
      };
      const cliJobs = [
        ...Array.from({ length: 3 }, () => cliCreate(rand.between(0, killAt), rand.chance(0.4) ? rand.between(10, 700) : null)),
        ...Array.from({ length: 2 }, () => cliRevoke(rand.between(0, killAt), rand.chance(0.4) ? rand.between(10, 700) : null)),
      ];
      const apiJobs = [apiCreator(), apiCreator(), apiRevoker(), user(), user()];

      await sleep(killAt);
      await killHard(server.child);
      if (cutOffMidWrite(storePath, server.child.pid)) stats.serverKilledMidWrite++;
      await Promise.all([...apiJobs, ...cliJobs]);

      parseStore(storePath, readFileSync(storePath, 'utf8'));
      expect(statSync(storePath).mode & 0o777).toBe(0o600);
    }

    console.log(`SIGKILL rounds (token store): ${JSON.stringify(stats)}`);
    // The rounds did what they are for: writers were cut off mid-write, and every kind of change was confirmed.
    expect(stats.serverKilledMidWrite + stats.cliKilledMidWrite).toBeGreaterThan(0);
    for (const key of ['apiCreated', 'cliCreated', 'apiRevoked', 'cliRevoked', 'cliKilled', 'used'] as const) expect(stats[key], key).toBeGreaterThan(0);
  });
});

describe('SIGKILL while the Hugging Face token and config.json are written', () => {
  it('leaves each file whole, old or new, 0600, with nothing open to other users', { timeout: 120_000 }, async () => {
    const rand = seededRandom(0x0c0ffee);
    const ROUNDS = 8;
    const MAX_ROUNDS = 30;
    const { home, env: base } = newHome();
    const env = { ...base, HF_ENDPOINT: hub.url };
    const secretPath = join(home, 'secrets', 'huggingface_token');
    const configPath = join(home, 'config.json');
    const tokens = [FAKE_HUB_TOKENS.read, FAKE_HUB_TOKENS.write, FAKE_HUB_TOKENS.fineGrainedRead];
    const wholeSecrets = new Set(tokens.map((t) => `${t}\n`));
    /** Every complete config.json a writer may have produced. */
    const wholeConfigs = new Set<string>();
    const configFor = (port: number) => `${JSON.stringify({ remoteAccess: { enabled: false, interface: 'all', port } }, null, 2)}\n`;
    const stats = { rounds: 0, hfSaved: 0, hfCliSaved: 0, configSaved: 0, cliKilled: 0, serverKilledMidWrite: 0, cliKilledMidWrite: 0 };
    let confirmedSecret: string | null = null;

    const checkFiles = (round: number) => {
      if (confirmedSecret !== null || existsSync(secretPath)) {
        expect(wholeSecrets.has(readFileSync(secretPath, 'utf8')), `round ${round}: the secret file holds one whole token`).toBe(true);
        expect(statSync(secretPath).mode & 0o777).toBe(0o600);
      }
      if (existsSync(configPath)) {
        const text = readFileSync(configPath, 'utf8');
        expect(wholeConfigs.has(text), `round ${round}: config.json is one whole version:\n${text}`).toBe(true);
        expect(new SettingsFile(configPath).read().remoteAccess.enabled).toBe(false);
        expect(statSync(configPath).mode & 0o777).toBe(0o600);
      }
      expect(looseModes(home), `round ${round}: nothing open to other users`).toEqual([]);
    };

    for (let round = 0; ; round++) {
      const server = await serve([], env);
      const status = await call(server.port, 'GET', '/huggingface/status');
      expect(status.status).toBe(200);
      if (confirmedSecret !== null) expect(status.body).toMatchObject({ present: true, source: 'file' });
      if (round >= ROUNDS && ((stats.serverKilledMidWrite + stats.cliKilledMidWrite > 0 && stats.cliKilled > 0) || round === MAX_ROUNDS)) {
        expect((await call(server.port, 'DELETE', '/huggingface/token')).status).toBe(200);
        expect(readdirSync(join(home, 'secrets')), 'logout leaves no copy of the token behind, not even a killed writer’s temp file').toEqual([]);
        await server.stop();
        break;
      }
      stats.rounds++;
      const killAt = rand.between(200, 1200);
      const startedAt = Date.now();
      const running = () => Date.now() - startedAt < killAt + 2_000;
      const port = server.port;

      const hfSaver = async () => {
        while (running()) {
          const token = rand.pick(tokens);
          const res = await call(port, 'POST', '/huggingface/token', { body: { token, verify: false } }).catch(() => null);
          if (!res) return;
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          confirmedSecret = token;
          stats.hfSaved++;
        }
      };
      const configSaver = async () => {
        while (running()) {
          const p = rand.between(1024, 65535);
          wholeConfigs.add(configFor(p));
          const res = await call(port, 'PUT', '/connection/remote', { body: { enabled: false, interface: 'all', port: p } }).catch(() => null);
          if (!res) return;
          expect(res.status, JSON.stringify(res.body)).toBe(200);
          stats.configSaved++;
        }
      };
      const cliLogin = async (delay: number, killAfter: number | null) => {
        await sleep(delay);
        const run = cli(['hf', 'login', '--no-verify'], env, `${rand.pick(tokens)}\n`);
        if (killAfter !== null) setTimeout(() => run.child.kill('SIGKILL'), killAfter);
        const out = await run.done;
        if (out.signal === 'SIGKILL') {
          stats.cliKilled++;
          if (cutOffMidWrite(secretPath, run.child.pid)) stats.cliKilledMidWrite++;
          return;
        }
        expect(out.code, out.stderr).toBe(0);
        confirmedSecret = 'cli';
        stats.hfCliSaved++;
      };
      const jobs = [hfSaver(), hfSaver(), configSaver(), configSaver(), ...Array.from({ length: 3 }, () => cliLogin(rand.between(0, killAt), rand.chance(0.5) ? rand.between(10, 700) : null))];

      await sleep(killAt);
      await killHard(server.child);
      if (cutOffMidWrite(secretPath, server.child.pid) || cutOffMidWrite(configPath, server.child.pid)) stats.serverKilledMidWrite++;
      await Promise.all(jobs);
      checkFiles(round);
    }

    console.log(`SIGKILL rounds (HF secret file, config.json): ${JSON.stringify(stats)}`);
    expect(stats.serverKilledMidWrite + stats.cliKilledMidWrite).toBeGreaterThan(0);
    for (const key of ['hfSaved', 'hfCliSaved', 'configSaved', 'cliKilled'] as const) expect(stats[key], key).toBeGreaterThan(0);
  });
});

describe('what a writer killed between its temp file and the rename leaves behind', () => {
  it('is swept by the next write and by hf logout, while a live writer’s temp file is left alone', async () => {
    const { home, env } = newHome();
    const finished = startCli(['--version'], env);
    await finished.done;
    const dead = finished.child.pid!; // a process that has exited: its temp files have no writer any more
    const secrets = join(home, 'secrets');
    expect((await cli(['hf', 'login', '--no-verify'], env, `${FAKE_HUB_TOKENS.read}\n`).done).code).toBe(0);
    const orphan = join(secrets, `.huggingface_token.${dead}.0123456789ab.tmp`);
    const inFlight = join(secrets, `.huggingface_token.${process.pid}.0123456789ab.tmp`);
    writeFileSync(orphan, `${FAKE_HUB_TOKENS.write}\n`, { mode: 0o600 });
    writeFileSync(inFlight, `${FAKE_HUB_TOKENS.admin}\n`, { mode: 0o600 });
    const storeOrphan = join(home, `.tokens.json.${dead}.0123456789ab.tmp`);
    writeFileSync(storeOrphan, '{"version":1,"tok', { mode: 0o600 });

    expect((await cli(['token', 'create', 'one'], env).done).code).toBe(0);
    expect(existsSync(storeOrphan)).toBe(false);
    expect((await cli(['hf', 'logout'], env).done).stdout).toBe('Removed the Hugging Face token Halo Forge stored.\n');
    expect(readdirSync(secrets)).toEqual([`.huggingface_token.${process.pid}.0123456789ab.tmp`]);
    expect(existsSync(inFlight)).toBe(true);
  });
});
