import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { RunInfo } from '../../../shared/runs.js';
import { waitFor } from './backend-process.js';

export const RUN_FIXTURES = fileURLToPath(new URL('../fixtures/runs/', import.meta.url));
export const TRAIN = join(RUN_FIXTURES, 'train.mjs');
export const FLOOD = join(RUN_FIXTURES, 'flood.mjs');

export const LOCAL = { remoteAddress: '127.0.0.1', headers: { host: '127.0.0.1:8000' } } as const;

/** POST /runs as the local user; the parsed answer and its status. */
export async function startRun(app: FastifyInstance, body: Record<string, unknown>) {
  const res = await app.inject({ method: 'POST', url: '/api/public/runs', payload: body, ...LOCAL });
  return { status: res.statusCode, body: res.json() as RunInfo & { error?: string; message?: string } };
}

export async function getRun(app: FastifyInstance, id: string): Promise<RunInfo> {
  const res = await app.inject({ url: `/api/public/runs/${id}`, ...LOCAL });
  return res.json() as RunInfo;
}

/** Waits until the run is in one of `states`, with a deadline; returns it. */
export async function waitForState(app: FastifyInstance, id: string, states: RunInfo['state'][], timeoutMs = 15_000): Promise<RunInfo> {
  let run: RunInfo | null = null;
  await waitFor(async () => states.includes((run = await getRun(app, id)).state), timeoutMs, `run ${id} to be ${states.join(' or ')} (last: ${JSON.stringify(run)})`);
  return run!;
}

/** Every file's text under `dir` (the rotated log too), for canary checks. */
export function allText(dir: string): string {
  let text = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const s = statSync(path);
    if (s.isDirectory()) text += allText(path);
    else if (s.size < 8 * 1024 * 1024) text += `\n--- ${path}\n${readFileSync(path, 'utf8')}`;
  }
  return text;
}

/** True while a process with this pid exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
