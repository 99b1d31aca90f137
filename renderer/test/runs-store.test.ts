import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MetricPoint, RunInfo } from '../../shared/runs';
import { buildStartRequest } from '../src/screens/runs/start-run-dialog';
import { runIdFromHash } from '../src/screens/runs';
import { formatCommandLine, parseCommandLine, parseEnvLines } from '../src/lib/run-form';
import { runPermissions, upsertRun, useRuns } from '../src/stores/runs';
import { visibleLines } from '../src/lib/run-log';
import { apiError, eventStream, fakeBackend, json } from './support/fake-backend';
import { ADMIN_SESSION, ANONYMOUS_SESSION, LOCAL_SESSION } from './support/fixtures';

const initial = useRuns.getState();

beforeEach(() => {
  localStorage.clear();
  useRuns.setState(initial, true);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

function run(over: Partial<RunInfo> = {}): RunInfo {
  return {
    id: 'r1',
    name: 'sft',
    state: 'running',
    recipe: null,
    command: ['python', 'train.py'],
    cwd: '/home/me/proj',
    env: [],
    model: null,
    gpu: false,
    runDir: '/home/me/.halo-forge/runs/r1',
    createdAt: '2026-12-01T12:00:00.000Z',
    startedAt: '2026-12-01T12:00:00.000Z',
    endedAt: null,
    pid: 4242,
    exitCode: null,
    signal: null,
    reason: null,
    logTail: '',
    artifacts: [],
    lastMetric: null,
    startedBy: 'local',
    ...over,
  };
}

function point(seq: number, loss: number): MetricPoint {
  return { seq, step: seq * 10, epoch: null, time: '2026-12-01T12:00:00.000Z', source: 'stdout', values: { loss } };
}

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

describe('who may do what with runs', () => {
  it.each([
    ['a browser on the workstation', LOCAL_SESSION, { watch: true, operate: true, admin: true }],
    ['an admin token', ADMIN_SESSION, { watch: true, operate: true, admin: true }],
    ['an operate token', { ...ADMIN_SESSION, token: { name: 'ci', scope: 'operate' as const } }, { watch: true, operate: true, admin: false }],
    ['a read token', { ...ADMIN_SESSION, token: { name: 'phone', scope: 'read' as const } }, { watch: true, operate: false, admin: false }],
    ['an inference token (the OpenAI API only)', { ...ADMIN_SESSION, token: { name: 'client', scope: 'inference' as const } }, { watch: false, operate: false, admin: false }],
    ['no token where one is needed', ANONYMOUS_SESSION, { watch: false, operate: false, admin: false }],
    ['no session yet', null, { watch: false, operate: false, admin: false }],
  ])('%s', (_who, session, expected) => {
    const can = runPermissions(session);
    expect({ watch: can.watch, operate: can.operate, admin: can.admin }).toEqual(expected);
    // A disabled control always says why.
    expect(can.operateWhy === null).toBe(can.operate);
    expect(can.adminWhy === null).toBe(can.admin);
  });
});

describe('the start form', () => {
  it.each([
    ['plain words', 'python train.py --epochs 3', ['python', 'train.py', '--epochs', '3']],
    ['single quotes keep everything', `python -c 'print("a b")'`, ['python', '-c', 'print("a b")']],
    ['double quotes with escapes', `echo "say \\"hi\\"" "C:\\\\x"`, ['echo', 'say "hi"', 'C:\\x']],
    ['a backslash escapes a space', 'ls my\\ folder', ['ls', 'my folder']],
    ['an empty quoted argument stays', `run '' x`, ['run', '', 'x']],
    ['runs of spaces and tabs are one break', '  a \t b  ', ['a', 'b']],
  ])('splits a command line: %s', (_name, text, argv) => {
    expect(parseCommandLine(text)).toEqual({ ok: true, value: argv });
    expect(parseCommandLine(formatCommandLine(argv))).toEqual({ ok: true, value: argv });
  });

  it.each([
    ['an open quote', `python -c 'print(1)`, 'single quote is not closed'],
    ['nothing', '   ', 'Type the command'],
  ])('refuses %s', (_name, text, words) => {
    const parsed = parseCommandLine(text);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.error).toContain(words);
  });

  it.each([
    ['names and values, comments and blanks skipped', 'A=1\n# note\n\nWANDB_MODE=offline\nEMPTY=\nURL=http://x/?a=b', { ok: true, value: { A: '1', WANDB_MODE: 'offline', EMPTY: '', URL: 'http://x/?a=b' } }],
    ['a name that is not one', 'A=1\n9LIVES=x', { ok: false, error: expect.stringContaining('Line 2: “9LIVES” is not a valid variable name') }],
    ['a line without =', 'JUSTNAME', { ok: false, error: expect.stringContaining('has no “=”') }],
    ['HF_TOKEN', 'HF_TOKEN=whatever', { ok: false, error: expect.stringContaining('HF_TOKEN is set by Halo Forge for every run from the workstation’s Hugging Face credential') }],
    ['a HALOFORGE_ name', 'HALOFORGE_RUN_DIR=/tmp', { ok: false, error: expect.stringContaining('HALOFORGE_RUN_DIR is set by Halo Forge') }],
    ['a token value', `WANDB_API_KEY=hf_${'a'.repeat(34)}`, { ok: false, error: expect.stringContaining('the value of WANDB_API_KEY looks like a token') }],
    ['a name twice', 'A=1\nA=2', { ok: false, error: 'Line 2: A is set twice.' }],
  ])('reads environment lines: %s', (_name, text, expected) => {
    expect(parseEnvLines(text)).toEqual(expected);
  });

  it('never puts a token value into the message that refuses it', () => {
    const canary = `hfk_${'C'.repeat(43)}`;
    const refused = parseEnvLines(`OTHER=${canary}`);
    expect(JSON.stringify(refused)).not.toContain(canary);
    const built = buildStartRequest({ name: '', command: `python train.py --token ${canary}`, cwd: '', env: '', model: '', gpu: false });
    expect(JSON.stringify(built)).not.toContain(canary);
    expect('problem' in built && built.problem).toContain('looks like a token');
  });

  it('builds the request the backend expects, leaving out what was left empty', () => {
    expect(buildStartRequest({ name: '', command: 'python train.py', cwd: '', env: '', model: '', gpu: false })).toEqual({ request: { command: ['python', 'train.py'] } });
    expect(buildStartRequest({ name: 'sft-1', command: 'accelerate launch train.py', cwd: '/data/proj', env: 'A=1', model: 'org/tiny', gpu: true })).toEqual({
      request: { name: 'sft-1', command: ['accelerate', 'launch', 'train.py'], cwd: '/data/proj', env: { A: '1' }, model: 'org/tiny', gpu: true },
    });
    expect(buildStartRequest({ name: 'bad name', command: 'x', cwd: '', env: '', model: '', gpu: false })).toEqual({ problem: expect.stringContaining('Name:') });
    expect(buildStartRequest({ name: '', command: 'x', cwd: 'relative/dir', env: '', model: '', gpu: false })).toEqual({ problem: expect.stringContaining('full path') });
  });
});

describe('the runs store', () => {
  it('opens a run from the address: #/runs/ID', () => {
    expect(runIdFromHash('#/runs/abc-123')).toBe('abc-123');
    expect(runIdFromHash('#/runs')).toBeNull();
    expect(runIdFromHash('#/runs/')).toBeNull();
    expect(runIdFromHash('#/runs/a%2Fb')).toBe('a/b');
    expect(runIdFromHash('#/runs/%E0%A4%A')).toBeNull();
  });

  it('a run seen again replaces itself; a new one goes first', () => {
    const older = run({ id: 'a', createdAt: '2026-12-01T10:00:00.000Z' });
    const runs = upsertRun([older], run({ id: 'b' }));
    expect(runs.map((r) => r.id)).toEqual(['b', 'a']);
    expect(upsertRun(runs, run({ id: 'a', createdAt: older.createdAt, state: 'stopped' })).map((r) => `${r.id}:${r.state}`)).toEqual(['b:running', 'a:stopped']);
  });

  it('follows a run: state, log and metric points arrive, and the end stops the stream for good', async () => {
    const { fetch } = fakeBackend({
      'GET /runs/r1/events': () =>
        new Response(
          eventStream([
            frame('run', run()),
            frame('log', { text: 'loading model\nstep 1 ' }),
            frame('log', { text: 'loss 2.0\n' }),
            frame('metric', point(0, 2.0)),
            frame('metric', point(1, 1.5)),
            frame('end', run({ state: 'succeeded', exitCode: 0, endedAt: '2026-12-01T12:05:00.000Z' })),
          ]),
          { status: 200 },
        ),
    });
    const stop = useRuns.getState().watch('r1');
    await vi.waitFor(() => expect(useRuns.getState().views.r1?.live).toBe('ended'));
    const view = useRuns.getState().views.r1!;
    expect(visibleLines(view.log)).toEqual(['loading model', 'step 1 loss 2.0']);
    expect(view.points.map((p) => p.values.loss)).toEqual([2.0, 1.5]);
    expect(useRuns.getState().runs[0]).toMatchObject({ id: 'r1', state: 'succeeded', exitCode: 0 });
    expect(fetch).toHaveBeenCalledOnce();
    stop();
    expect(useRuns.getState().views.r1).toBeUndefined();
  });

  it('reconnects a dropped stream without doubling the log or the points', async () => {
    vi.useFakeTimers();
    const streams: Array<ReadableStreamDefaultController<Uint8Array>> = [];
    const encoder = new TextEncoder();
    fakeBackend({ 'GET /runs/r1/events': () => new Response(new ReadableStream<Uint8Array>({ start: (c) => void streams.push(c) }), { status: 200 }) });
    const stop = useRuns.getState().watch('r1');
    await vi.advanceTimersByTimeAsync(0);
    streams[0]!.enqueue(encoder.encode(frame('run', run()) + frame('log', { text: 'line 1\n' }) + frame('metric', point(0, 2))));
    await vi.advanceTimersByTimeAsync(0);
    streams[0]!.error(new TypeError('network changed'));
    await vi.advanceTimersByTimeAsync(0);
    expect(useRuns.getState().views.r1?.live).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1_000);
    // The server starts each connection with the log's tail and every point so far.
    streams[1]!.enqueue(encoder.encode(frame('run', run()) + frame('log', { text: 'line 1\nline 2\n' }) + frame('metric', point(0, 2)) + frame('metric', point(1, 1.8))));
    await vi.advanceTimersByTimeAsync(0);
    const view = useRuns.getState().views.r1!;
    expect(view.live).toBe('live');
    expect(view.log.lines).toEqual(['line 1', 'line 2']);
    expect(view.points.map((p) => p.seq)).toEqual([0, 1]);
    stop();
  });

  it('gives up on a run that does not exist instead of retrying', async () => {
    const { fetch } = fakeBackend({ 'GET /runs/gone/events': apiError(404, 'run.not_found', 'No run with the id or name "gone".') });
    useRuns.getState().watch('gone');
    await vi.waitFor(() => expect(useRuns.getState().views.gone?.error?.detail).toBe('No run with the id or name "gone".'));
    expect(useRuns.getState().views.gone?.live).toBe('off');
    expect(fetch).toHaveBeenCalledOnce();
  });

  it('starts a recipe and stops a run, keeping the list current', async () => {
    const started = run({ id: 'r2', recipe: 'sft', state: 'running' });
    const { calls } = fakeBackend({
      'POST /runs/recipes/sft/start': json(201, started),
      'POST /runs/r2/stop': json(200, { ...started, state: 'stopped', reason: 'Stopped by local.' }),
    });
    expect(await useRuns.getState().startRecipe('sft')).toEqual(started);
    expect(useRuns.getState().runs.map((r) => r.id)).toEqual(['r2']);
    expect(await useRuns.getState().stop('r2')).toBe(true);
    expect(useRuns.getState().runs[0]?.state).toBe('stopped');
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /runs/recipes/sft/start', 'POST /runs/r2/stop']);
    expect(useRuns.getState().busy).toBeNull();
  });

  it('says why a start was refused, in the backend’s words', async () => {
    fakeBackend({ 'POST /runs': apiError(400, 'run.command_not_found', 'No program "pyhton" on the PATH.') });
    expect(await useRuns.getState().start({ command: ['pyhton', 'train.py'] })).toBeNull();
    expect(useRuns.getState().actionError).toEqual({ title: 'Request failed', detail: 'No program "pyhton" on the PATH.' });
  });
});
