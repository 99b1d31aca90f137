// `halo-forge models run|stop` and `halo-forge ps`: they ask the running
// backend (found through backend.json in the Halo Forge home), which owns
// the runtimes. On loopback, in the default auth mode, a local user needs no
// token; with `--auth on` the CLI sends HALOFORGE_API_TOKEN as a bearer token.
import type { RunningModel, RunRequest, ServingStatus } from '../../../shared/serving.js';
import { readBackendRecord } from '../serving/backend-record.js';
import { CliError } from './main.js';
import { formatBytes, formatDuration } from './models-format.js';

const json = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

const NO_BACKEND = 'No Halo Forge backend is running for this user. Start one with "halo-forge serve" (or open the desktop app), then try again.';

/** One request to the running backend's API; its error message (ours, never a secret) becomes the CLI's. */
async function ask<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const record = readBackendRecord(process.env);
  if (!record) throw new CliError(NO_BACKEND, 2);
  const token = process.env.HALOFORGE_API_TOKEN?.trim();
  let res: Response;
  try {
    res = await fetch(new URL(`api/public${path}`, record.url), {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new CliError(`The backend at ${record.url} (pid ${record.pid}) does not answer. ${NO_BACKEND}`, 2);
  }
  const answer = (await res.json().catch(() => null)) as { error?: string; message?: string } | null;
  if (res.status === 401) {
    throw new CliError(`The backend needs an API token (it runs with --auth on): create one with "halo-forge token create cli --scope operate" and set HALOFORGE_API_TOKEN to it.`, 1);
  }
  if (!res.ok) throw new CliError(answer?.message ?? `The backend answered ${res.status}.`, res.status === 404 ? 3 : 1);
  return answer as T;
}

export async function modelsRun(model: string, o: { runtime?: string; ctx?: number; json?: boolean }): Promise<void> {
  const request: RunRequest = { model, ...(o.runtime ? { runtime: o.runtime as RunRequest['runtime'] } : {}), ...(o.ctx !== undefined ? { ctx: o.ctx } : {}) };
  if (!o.json) process.stderr.write(`Loading ${model}...\n`);
  const running = await ask<RunningModel>('POST', '/serving/run', request);
  if (o.json) return void json(running);
  const record = readBackendRecord(process.env);
  process.stdout.write(`${running.model} is ready (runtime ${running.runtime}). OpenAI clients: base URL ${record?.url ?? ''}v1, model "${running.model}".\n`);
}

export async function modelsStop(model: string, o: { json?: boolean }): Promise<void> {
  const stopped = await ask<RunningModel>('POST', '/serving/stop', { model });
  if (o.json) return void json(stopped);
  process.stdout.write(`Stopped ${stopped.model}.\n`);
}

export async function ps(o: { json?: boolean }): Promise<void> {
  const status = await ask<ServingStatus>('GET', '/serving');
  if (o.json) return void json(status.models);
  if (status.models.length === 0) {
    process.stdout.write(`No model is loaded. Run one with "halo-forge models run REPO[:FILE]", or ask /v1 for a downloaded one (${status.available.length} can be loaded).\n`);
    return;
  }
  process.stdout.write(psTable(status.models));
}

export function psTable(models: RunningModel[]): string {
  const rows = [['MODEL', 'RUNTIME', 'MEMORY', 'STATE', 'UPTIME', 'TOKENS/S'], ...models.map((m) => [
    m.model,
    m.runtime,
    m.memoryBytes === null ? '-' : formatBytes(m.memoryBytes),
    m.state === 'crashed' && m.crash ? `crashed (${m.crash.exitCode ?? m.crash.signal ?? 'no exit code'})` : m.state,
    formatDuration(m.uptimeSeconds),
    m.tokensPerSecond === null ? '-' : m.tokensPerSecond.toFixed(1),
  ])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
  const crashes = models.filter((m) => m.state === 'crashed' && m.crash).map((m) => `\n${m.model}: ${m.crash!.reason}${m.crash!.hint ? ` ${m.crash!.hint}` : ''}`);
  return `${lines.join('\n')}\n${crashes.join('')}${crashes.length ? '\n' : ''}`;
}
