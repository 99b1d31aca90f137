import { describe, expect, it } from 'vitest';
import type { LocalModel, LocalModelList } from '../../shared/models.js';
import type { Scope } from '../../shared/api.js';
import { scopeAllows } from '../src/auth/scopes.js';
import { isServableGguf, resolveModel, servableModels } from '../src/serving/model-catalog.js';
import { parseTtl, servingChoices } from '../src/serving/serving-settings.js';
import { psTable } from '../src/cli/serving.js';
import type { RunningModel } from '../../shared/serving.js';

// The rules behind serving, as tables: which token reaches what, which file
// a model name means, what the cache offers, TTL and cap choices (memory:
// serving-memory.test.ts).

describe('scopes', () => {
  it.each<[Scope, Scope, string, boolean]>([
    ['inference', 'inference', 'POST', true],
    ['inference', 'inference', 'GET', true],
    ['inference', 'read', 'GET', false],
    ['inference', 'operate', 'POST', false],
    ['inference', 'admin', 'POST', false],
    ['read', 'inference', 'GET', true],
    ['read', 'inference', 'POST', false],
    ['read', 'read', 'GET', true],
    ['operate', 'inference', 'POST', true],
    ['operate', 'admin', 'POST', false],
    ['admin', 'inference', 'POST', true],
    ['admin', 'admin', 'DELETE', true],
  ])('%s holding, %s needed, %s: %s', (held, needed, method, allowed) => {
    expect(scopeAllows(held, needed, method)).toBe(allowed);
  });
});

function local(id: string, files: string[], extra: Partial<LocalModel> = {}, refs = ['main']): LocalModel {
  return {
    id,
    kind: 'model',
    path: `/cache/models--${id.replace('/', '--')}`,
    size: 1,
    revisions: [{ commit: 'c0ffee', refs, files: files.map((path) => ({ path, size: 1000 })), size: 1000, lastModified: '2026-01-01T00:00:00Z' }],
    lastPulled: null,
    incomplete: false,
    ...extra,
  };
}

const CACHE: LocalModelList = {
  cacheDir: '/cache',
  freeBytes: null,
  models: [
    local('org/one', ['one.Q4_K_M.gguf', 'README.md']),
    local('org/many', ['m.Q4_K_M.gguf', 'sub/m.Q8_0.gguf', 'mmproj-m.gguf']),
    local('org/split', ['big-00001-of-00003.gguf', 'big-00002-of-00003.gguf', 'big-00003-of-00003.gguf']),
    local('org/safetensors', ['model.safetensors', 'config.json']),
    local('org/pulling', ['p.gguf'], { incomplete: true }),
    local('org/dataset', ['d.gguf'], { kind: 'dataset' }),
  ],
};

describe('which downloaded file a model name means', () => {
  it.each<[string, object]>([
    ['org/one', { kind: 'found', entry: { model: 'org/one:one.Q4_K_M.gguf', path: '/cache/models--org--one/snapshots/c0ffee/one.Q4_K_M.gguf' } }],
    ['ORG/One', { kind: 'found', entry: { model: 'org/one:one.Q4_K_M.gguf' } }],
    ['org/one:one.Q4_K_M.gguf', { kind: 'found', entry: { file: 'one.Q4_K_M.gguf' } }],
    ['org/many', { kind: 'ambiguous', choices: ['org/many:m.Q4_K_M.gguf', 'org/many:sub/m.Q8_0.gguf'] }],
    ['org/many:sub/m.Q8_0.gguf', { kind: 'found', entry: { file: 'sub/m.Q8_0.gguf' } }],
    ['org/many:m.Q8_0.gguf', { kind: 'found', entry: { file: 'sub/m.Q8_0.gguf' } }],
    ['org/many:m.Q2_K.gguf', { kind: 'not_downloaded', file: 'm.Q2_K.gguf' }],
    ['org/split', { kind: 'found', entry: { file: 'big-00001-of-00003.gguf' } }],
    ['org/safetensors', { kind: 'no_gguf' }],
    ['org/one:README.md', { kind: 'no_gguf' }],
    ['org/pulling', { kind: 'incomplete' }],
    ['org/dataset', { kind: 'not_downloaded' }],
    ['org/nowhere', { kind: 'not_downloaded', repo: 'org/nowhere', file: null }],
  ])('%s', (name, expected) => {
    expect(resolveModel(name, CACHE)).toMatchObject(expected);
  });

  it('the cache offers every complete GGUF model file, never a later shard, a projector, a dataset or an unfinished pull', () => {
    expect(servableModels(CACHE).map((m) => m.model)).toEqual(['org/many:m.Q4_K_M.gguf', 'org/many:sub/m.Q8_0.gguf', 'org/one:one.Q4_K_M.gguf', 'org/split:big-00001-of-00003.gguf']);
    expect(isServableGguf('x/Model-00010-of-00012.gguf')).toBe(false);
    expect(isServableGguf('x/Model-00001-of-00012.gguf')).toBe(true);
  });

  it('a name without a revision means the one main points at, else the newest', () => {
    const two = local('org/two', ['a.gguf']);
    two.revisions = [
      { commit: 'old', refs: [], files: [{ path: 'a.gguf', size: 1 }], size: 1, lastModified: '2026-01-01T00:00:00Z' },
      { commit: 'new', refs: [], files: [{ path: 'a.gguf', size: 1 }], size: 1, lastModified: '2026-02-01T00:00:00Z' },
    ];
    expect(resolveModel('org/two', { ...CACHE, models: [two] })).toMatchObject({ entry: { commit: 'new' } });
    two.revisions[0]!.refs = ['main'];
    expect(resolveModel('org/two', { ...CACHE, models: [two] })).toMatchObject({ entry: { commit: 'old' } });
  });
});

describe('the idle TTL and the cap', () => {
  it.each<[string, number | null | undefined]>([
    ['30m', 30 * 60_000],
    ['2h', 7_200_000],
    ['90s', 90_000],
    ['1d', 86_400_000],
    ['never', null],
    ['NEVER', null],
    ['0m', undefined],
    ['30', undefined],
    ['forever', undefined],
    ['-5m', undefined],
  ])('%s', (text, ms) => {
    expect(parseTtl(text)).toBe(ms);
  });

  it.each<[{ modelTtl?: string; maxModels?: string }, unknown, object | string]>([
    [{}, {}, { ttlMs: 3_600_000, maxLoaded: 2 }],
    [{}, { serving: { modelTtl: 'never', maxModels: 4, threads: 2 } }, { ttlMs: null, maxLoaded: 4, threads: 2 }],
    [{ modelTtl: '5m', maxModels: '1' }, { serving: { modelTtl: 'never', maxModels: 4 } }, { ttlMs: 300_000, maxLoaded: 1 }],
    [{ modelTtl: 'nevr' }, {}, '--model-ttl "nevr" is not a time to live'],
    [{}, { serving: { modelTtl: 30 } }, '"serving.modelTtl" must be'],
    [{ maxModels: '0' }, {}, '--max-models must be a whole number from 1 to 64'],
    [{}, { serving: { maxModels: 'lots' } }, 'config.json "serving.maxModels" must be'],
    [{}, { serving: { threads: 0 } }, '"serving.threads" must be'],
    [{}, { serving: { llamaServer: '/opt/llama/llama-server' } }, { ttlMs: 3_600_000, maxLoaded: 2, executables: { 'llama-server': '/opt/llama/llama-server' } }],
    [{}, { serving: { vllm: 'vllm' } }, '"serving.vllm" must be the full path'],
  ])('command line %j over config %j', (cli, settings, expected) => {
    if (typeof expected === 'string') expect(() => servingChoices(cli, settings)).toThrow(expected);
    else expect(servingChoices(cli, settings)).toEqual(expected);
  });
});

describe('ps', () => {
  const base: RunningModel = {
    model: 'org/one:one.gguf',
    repo: 'org/one',
    file: 'one.gguf',
    commit: 'c0ffee',
    runtime: 'embedded',
    state: 'ready',
    contextSize: null,
    memoryBytes: 512 * 1024 * 1024,
    startedAt: '2026-01-01T00:00:00Z',
    uptimeSeconds: 75,
    lastUsedAt: null,
    unloadAt: null,
    tokensPerSecond: 41.27,
    requests: 3,
    loadedBy: 'user',
    crash: null,
  };

  it('lists model, runtime, memory, state, uptime and tokens/s, and says why a crashed one stopped', () => {
    const crashed: RunningModel = { ...base, model: 'org/two:two.gguf', state: 'crashed', memoryBytes: null, tokensPerSecond: null, crash: { reason: 'It stopped 4 times in a row.', hint: 'See the log.', exitCode: 139, signal: null, logTail: '', restartInMs: null } };
    expect(psTable([base, crashed]).split('\n')).toEqual([
      'MODEL             RUNTIME   MEMORY   STATE          UPTIME  TOKENS/S',
      'org/one:one.gguf  embedded  512 MiB  ready          1m15s   41.3',
      'org/two:two.gguf  embedded  -        crashed (139)  1m15s   -',
      '',
      'org/two:two.gguf: It stopped 4 times in a row. See the log.',
      '',
    ]);
  });
});
