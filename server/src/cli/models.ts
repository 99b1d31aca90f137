// `halo-forge models ...`: the Models engine in this process (owner 'cli'), no
// server needed. It shares the Hugging Face cache with a running server, with
// Python tools and with llama.cpp through the engine's per-blob locks.
import { createInterface } from 'node:readline/promises';
import cliProgress from 'cli-progress';
import type { PullInfo, PullState } from '../../../shared/models.js';
import { AuditLog } from '../audit/audit-log.js';
import { createModelService } from '../models/model-service.js';
import type { ModelService } from '../models/service.js';
import { auditLogPath } from '../paths.js';
import { createHfAccess } from '../secrets/hf-access.js';
import { CliError } from './main.js';
import { formatBytes, formatDuration, localTable, progressLine, pullFailure, revisionName, searchTable } from './models-format.js';

/** Plain progress lines at most this often: a log stays readable, a pipe is not flooded. */
const LINE_INTERVAL_MS = 1_000;
const FINAL: readonly PullState[] = ['ready', 'failed', 'cancelled', 'interrupted'];

function openModels(): ModelService {
  // A CLI run verifies the HF token only when the Hub asks for it, never in the background.
  const hf = createHfAccess({ env: process.env, audit: new AuditLog(auditLogPath()), autoVerify: false });
  return createModelService({ env: process.env, hf, owner: 'cli' });
}

const json = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

export async function modelsSearch(query: string, o: { json?: boolean; limit?: number }): Promise<void> {
  const models = openModels();
  try {
    const result = await models.search(query, { limit: o.limit });
    if (o.json) return void json(result);
    if (result.models.length === 0) return void process.stdout.write(`No models match "${result.query}".\n`);
    process.stdout.write(searchTable(result.models));
  } finally {
    await models.close();
  }
}

export async function modelsList(o: { json?: boolean }): Promise<void> {
  const models = openModels();
  try {
    const list = await models.listLocal();
    if (o.json) return void json(list);
    if (list.models.length === 0) return void process.stdout.write(`The cache is empty: ${list.cacheDir}\nPull a model with: halo-forge models pull org/name\n`);
    process.stdout.write(localTable(list));
  } finally {
    await models.close();
  }
}

export async function modelsRm(repo: string, o: { revision?: string; yes?: boolean }): Promise<void> {
  const models = openModels();
  try {
    if (!o.yes) {
      if (!process.stdin.isTTY) throw new CliError('Refusing to delete without --yes: standard input is not a terminal to confirm on.', 2);
      const list = await models.listLocal();
      const found = list.models.find((m) => m.id === repo);
      const what = describeRemoval(repo, o.revision, found ? { size: found.size, revisions: found.revisions.map(revisionName) } : null);
      if (!(await confirm(`Delete ${what}? [y/N] `))) throw new CliError('Nothing was deleted.', 1);
    }
    const result = await models.remove({ repo, revision: o.revision });
    const revisions = result.removedRevisions.length;
    process.stdout.write(`Removed ${revisions} revision${revisions === 1 ? '' : 's'} of ${result.repo}; freed ${formatBytes(result.freedBytes)}.\n`);
  } finally {
    await models.close();
  }
}

function describeRemoval(repo: string, revision: string | undefined, found: { size: number; revisions: string[] } | null): string {
  if (revision) return `revision ${revision} of ${repo} (files another revision still uses are kept)`;
  return found ? `${repo} (${found.revisions.length} revision${found.revisions.length === 1 ? '' : 's'}: ${found.revisions.join(' ')}; ${formatBytes(found.size)})` : repo;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export interface PullOptions {
  revision?: string;
  include?: string[];
  exclude?: string[];
  json?: boolean;
}

/**
 * Pulls and waits for the end. Exits 0 only when every chosen file verified;
 * Ctrl-C pauses, which keeps the partial files, and the same command resumes.
 */
export async function modelsPull(repo: string, o: PullOptions): Promise<void> {
  const models = openModels();
  const report = progressReporter(o.json === true);
  let pullId: string | null = null;
  let latest: PullInfo | null = null;
  let settle: (pull: PullInfo) => void = () => undefined;
  const finished = new Promise<PullInfo>((resolve) => (settle = resolve));
  const seen = (pull: PullInfo) => {
    if (pull.id !== pullId) return;
    latest = pull;
    report.update(pull);
    if (FINAL.includes(pull.state)) settle(pull);
  };
  // Events may arrive before startPull answers: keep the latest and replay it.
  let early: PullInfo[] = [];
  const unsubscribe = models.onPull((pull) => (pullId === null ? early.push(pull) : seen(pull)));

  let interrupted = false;
  const onSigint = () => {
    if (interrupted || pullId === null) return void process.exit(130);
    interrupted = true;
    report.stop();
    process.stderr.write('\nStopping; the partial files are kept.\n');
    void models.pause(pullId).then(
      (pull) => settle(pull),
      () => settle(latest!),
    );
  };
  process.on('SIGINT', onSigint);

  try {
    const started = await models.startPull({ repo, revision: o.revision, include: o.include, exclude: o.exclude });
    pullId = started.id;
    seen(started);
    for (const pull of early) seen(pull);
    early = [];
    const end = await finished;
    report.stop();
    if (interrupted) throw new CliError(`Paused ${started.repo} with its partial files kept. Run the same command to resume.`, 130);
    if (o.json) json(end);
    if (end.state !== 'ready') throw new CliError(pullFailure(end));
    if (!o.json) process.stdout.write(`Ready: ${end.repo} at ${end.commit?.slice(0, 12) ?? end.revision}, ${end.files.length} file${end.files.length === 1 ? '' : 's'} (${formatBytes(end.bytesTotal)}) verified.\n`);
  } finally {
    report.stop();
    process.off('SIGINT', onSigint);
    unsubscribe();
    await models.close();
  }
}

interface Reporter {
  update(pull: PullInfo): void;
  stop(): void;
}

/** A progress bar on a terminal; elsewhere plain lines, a few a second at most, and one at each change of state. */
function progressReporter(quiet: boolean): Reporter {
  if (quiet) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream: process.stderr, hideCursor: true, barsize: 24, format: '{repo} [{bar}] {percentage}% | {received} / {size} | {speed}/s | {left} left | {state}', etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(pull) {
        // Payload names of our own: cli-progress fills {total}, {eta} and {value} with its raw numbers.
        const payload = { repo: pull.repo, received: formatBytes(pull.bytesDone), size: formatBytes(pull.bytesTotal), speed: formatBytes(pull.rate), left: pull.etaSeconds === null ? '-' : formatDuration(pull.etaSeconds), state: pull.state };
        if (!started) {
          bar.start(Math.max(pull.bytesTotal, 1), pull.bytesDone, payload);
          started = true;
        } else {
          bar.setTotal(Math.max(pull.bytesTotal, 1));
          bar.update(pull.bytesDone, payload);
        }
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  let lastAt = 0;
  let lastState: PullState | null = null;
  return {
    update(pull) {
      const now = Date.now();
      if (pull.state === lastState && now - lastAt < LINE_INTERVAL_MS) return;
      lastAt = now;
      lastState = pull.state;
      process.stderr.write(`${progressLine(pull)}\n`);
    },
    stop: () => undefined,
  };
}
