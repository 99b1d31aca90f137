// `halo-forge runs ...`: asks the running backend, which owns supervision. A
// run started here is the same run the dashboard shows, is followed by the
// same keeper, and outlives this command; the CLI never runs a job itself.
// The backend is found at HALOFORGE_URL (default http://127.0.0.1:8000/); on
// loopback in the default auth mode no token is needed, otherwise the CLI
// sends HALOFORGE_API_TOKEN as a bearer token (admin to start, operate to stop).
import type { RunInfo, RunStartRequest } from '../../../shared/runs.js';
import { FINISHED_RUN_STATES } from '../../../shared/runs.js';
import { version } from '../version.js';
import { CliError } from './main.js';

const json = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

function backendUrl(): URL {
  const raw = process.env.HALOFORGE_URL?.trim() || 'http://127.0.0.1:8000/';
  let url: URL;
  try {
    url = new URL(raw.endsWith('/') ? raw : `${raw}/`);
  } catch {
    throw new CliError(`HALOFORGE_URL is not a URL: "${raw.slice(0, 100)}".`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError('HALOFORGE_URL must be an http:// or https:// URL.', 2);
  if (url.username || url.password) throw new CliError('HALOFORGE_URL must not hold credentials; set HALOFORGE_API_TOKEN instead.', 2);
  return url;
}

async function request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  const base = backendUrl();
  const token = process.env.HALOFORGE_API_TOKEN?.trim();
  try {
    return await fetch(new URL(`api/public${path}`, base), {
      method,
      headers: {
        'user-agent': `halo-forge-cli/${version}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new CliError(`No Halo Forge backend answers at ${base.origin}. Start one with "halo-forge serve" (or open the desktop app), or set HALOFORGE_URL to where it listens.`, 2);
  }
}

/** One API call; the backend's message (never a secret) becomes the CLI's. */
async function ask<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await request(method, path, body);
  const answer = (await res.json().catch(() => null)) as { error?: string; message?: string } | null;
  await refuse(res, answer);
  return answer as T;
}

async function refuse(res: Response, answer: { message?: string } | null): Promise<void> {
  if (res.ok) return;
  if (res.status === 401) throw new CliError('The backend needs an API token: create one with "halo-forge token create NAME --scope admin" (starting runs) or "--scope operate" (stopping them) and set HALOFORGE_API_TOKEN to it.', 1);
  throw new CliError(answer?.message ?? `The backend answered ${res.status}.`, res.status === 404 ? 3 : 1);
}

const enc = encodeURIComponent;

export interface RunsStartOptions {
  name?: string;
  cwd?: string;
  env?: string[];
  model?: string;
  revision?: string;
  gpu?: boolean;
  json?: boolean;
}

/** `K=V` pairs; a malformed one is named (its value never shown: it may be a secret pasted in). */
export function parseEnvPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--env takes NAME=VALUE; "${pair.slice(0, Math.max(0, eq)) || pair.slice(0, 20)}" has no "=" after a name.`, 2);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return env;
}

export async function runsStart(command: string[], o: RunsStartOptions): Promise<void> {
  const request: RunStartRequest = {
    command,
    cwd: o.cwd ? (await import('node:path')).resolve(o.cwd) : process.cwd(),
    ...(o.name ? { name: o.name } : {}),
    ...(o.env?.length ? { env: parseEnvPairs(o.env) } : {}),
    ...(o.model ? { model: o.model } : {}),
    ...(o.revision ? { revision: o.revision } : {}),
    ...(o.gpu ? { gpu: true } : {}),
  };
  const run = await ask<RunInfo>('POST', '/runs', request);
  if (o.json) return void json(run);
  process.stdout.write(`Started run ${run.name} (${run.id}), ${run.state}.\nFollow it with: halo-forge runs logs ${run.id} --follow\n`);
}

export async function runsList(o: { json?: boolean }): Promise<void> {
  const { runs } = await ask<{ runs: RunInfo[] }>('GET', '/runs');
  if (o.json) return void json(runs);
  if (runs.length === 0) return void process.stdout.write('No runs yet. Start one with: halo-forge runs start -- COMMAND ARGS...\n');
  process.stdout.write(runsTable(runs));
}

export function runsTable(runs: RunInfo[]): string {
  const rows = [
    ['ID', 'NAME', 'STATE', 'STARTED', 'LAST METRIC', 'COMMAND'],
    ...runs.map((r) => [
      r.id,
      r.name,
      r.state === 'failed' && r.exitCode !== null ? `failed (${r.exitCode})` : r.state,
      r.startedAt ? r.startedAt.replace('T', ' ').slice(0, 19) : '-',
      r.lastMetric ? metricSummary(r.lastMetric.values, r.lastMetric.step, r.lastMetric.epoch) : '-',
      r.command.join(' ').slice(0, 60),
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return `${rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

function metricSummary(values: Record<string, number>, step: number | null, epoch: number | null): string {
  const key = 'loss' in values ? 'loss' : Object.keys(values)[0];
  const where = step !== null ? `step ${step}` : epoch !== null ? `epoch ${epoch}` : '';
  return [key ? `${key} ${Number(values[key]!.toPrecision(4))}` : '', where].filter(Boolean).join(' @ ') || '-';
}

export async function runsShow(name: string, o: { json?: boolean }): Promise<void> {
  const run = await ask<RunInfo>('GET', `/runs/${enc(name)}`);
  if (o.json) return void json(run);
  const lines = [
    `${run.name} (${run.id}): ${run.state}${run.exitCode !== null ? `, exit code ${run.exitCode}` : ''}${run.signal ? `, signal ${run.signal}` : ''}`,
    `command:  ${run.command.join(' ')}`,
    `folder:   ${run.cwd}`,
    `run dir:  ${run.runDir}`,
    `env:      ${run.env.length ? run.env.join(', ') : '(none added)'}`,
    `model:    ${run.model ? `${run.model.repo}@${run.model.commit.slice(0, 12)}` : '-'}`,
    `started:  ${run.startedAt ?? '-'} by ${run.startedBy}${run.recipe ? ` from recipe ${run.recipe}` : ''}`,
    `ended:    ${run.endedAt ?? '-'}`,
  ];
  if (run.lastMetric) lines.push(`metric:   ${metricSummary(run.lastMetric.values, run.lastMetric.step, run.lastMetric.epoch)}`);
  if (run.artifacts.length) lines.push(`artifacts: ${run.artifacts.map((a) => a.path).join(', ')}`);
  if (run.reason) lines.push(`reason:   ${run.reason}`);
  if (run.logTail) lines.push('', run.logTail);
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function runsStop(name: string, o: { json?: boolean }): Promise<void> {
  const run = await ask<RunInfo>('POST', `/runs/${enc(name)}/stop`);
  if (o.json) return void json(run);
  process.stdout.write(`${run.name} (${run.id}): ${run.state}.\n`);
}

export async function runsLogs(name: string, o: { follow?: boolean; tail?: number }): Promise<void> {
  if (!o.follow) {
    const res = await request('GET', `/runs/${enc(name)}/log${o.tail ? `?tail=${o.tail}` : ''}`);
    if (!res.ok) await refuse(res, (await res.json().catch(() => null)) as { message?: string } | null);
    process.stdout.write(await res.text());
    return;
  }
  const res = await request('GET', `/runs/${enc(name)}/events`);
  if (!res.ok || !res.body) return refuse(res, (await res.json().catch(() => null)) as { message?: string } | null);
  let ended: RunInfo | null = null;
  let buffer = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (!event || data === undefined) continue;
      if (event === 'log') process.stdout.write((JSON.parse(data) as { text: string }).text);
      if (event === 'end') ended = JSON.parse(data) as RunInfo;
    }
  }
  if (ended && FINISHED_RUN_STATES.includes(ended.state)) {
    process.stderr.write(`\n${ended.name} (${ended.id}): ${ended.state}${ended.exitCode !== null ? `, exit code ${ended.exitCode}` : ''}.\n`);
    if (ended.state === 'failed' || ended.state === 'lost') process.exitCode = 1;
  }
}
