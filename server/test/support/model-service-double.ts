// A ModelService for route tests, where HTTP is the point and the engine is
// not: it answers from fixtures, records what it was asked, and lets a test
// push pull and cache changes. The end-to-end tests run the real engine.
import { httpError } from '../../src/errors.js';
import type { ModelService } from '../../src/models/service.js';
import type { LocalModelList, ModelDetails, ModelSearchResult, PullInfo, PullRequest } from '../../../shared/models.js';

export function pullFixture(overrides: Partial<PullInfo> = {}): PullInfo {
  return {
    id: 'p1',
    repo: 'halo-test/tiny',
    revision: 'main',
    commit: 'a'.repeat(40),
    include: [],
    exclude: [],
    state: 'downloading',
    owner: 'server',
    bytesTotal: 1000,
    bytesDone: 250,
    rate: 100,
    etaSeconds: 7.5,
    files: [{ path: 'model.gguf', size: 1000, received: 250, state: 'downloading' }],
    startedAt: '2026-12-01T12:00:00.000Z',
    finishedAt: null,
    error: null,
    ...overrides,
  };
}

export const LOCAL_FIXTURE: LocalModelList = {
  cacheDir: '/tmp/hf/hub',
  freeBytes: 10_000_000,
  models: [
    {
      id: 'halo-test/tiny',
      kind: 'model',
      path: '/tmp/hf/hub/models--halo-test--tiny',
      size: 1000,
      revisions: [{ commit: 'a'.repeat(40), refs: ['main'], files: [{ path: 'model.gguf', size: 1000 }], size: 1000, lastModified: '2026-12-01T12:00:00.000Z' }],
      lastPulled: '2026-12-01T12:00:00.000Z',
      incomplete: false,
    },
  ],
};

export const DETAILS_FIXTURE: ModelDetails = {
  id: 'halo-test/tiny',
  commit: 'a'.repeat(40),
  revision: 'main',
  gated: false,
  private: false,
  url: 'https://huggingface.co/halo-test/tiny',
  files: [{ path: 'model.gguf', size: 1000, gitOid: 'b'.repeat(40), sha256: 'c'.repeat(64) }],
  groups: [{ kind: 'gguf', label: 'Q4_K_M', files: ['model.gguf'], size: 1000, include: ['model.gguf'] }],
  access: { state: 'granted', message: 'This workstation can download it.' },
  local: null,
};

export interface ModelServiceDouble extends ModelService {
  calls: { method: string; args: unknown[] }[];
  pulls: Map<string, PullInfo>;
  emitPull(pull: PullInfo): void;
  emitLocalChange(): void;
  /** Extra fields the engine might carry by mistake; the response schemas must drop them. */
  leak: Record<string, unknown>;
  closed: boolean;
}

export function modelServiceDouble(): ModelServiceDouble {
  const pullListeners = new Set<(pull: PullInfo) => void>();
  const localListeners = new Set<() => void>();
  const double: ModelServiceDouble = {
    calls: [],
    pulls: new Map(),
    leak: {},
    closed: false,
    async search(query, options) {
      double.calls.push({ method: 'search', args: [query, options] });
      const result: ModelSearchResult = {
        query,
        models: [{ id: 'halo-test/tiny', downloads: 3, likes: 1, gated: false, private: false, updatedAt: null, pipelineTag: 'text-generation', library: 'gguf', ...double.leak }],
      };
      return result;
    },
    async details(repo, revision) {
      double.calls.push({ method: 'details', args: [repo, revision] });
      if (repo === 'halo-test/gated') throw httpError(403, 'model.gated', 'Accept the license on the model page: https://huggingface.co/halo-test/gated');
      if (revision === 'nope') throw httpError(404, 'model.revision_not_found', 'halo-test/tiny has no revision "nope".');
      return { ...DETAILS_FIXTURE, revision: revision ?? 'main', ...double.leak };
    },
    async listLocal() {
      double.calls.push({ method: 'listLocal', args: [] });
      return LOCAL_FIXTURE;
    },
    async startPull(request: PullRequest) {
      double.calls.push({ method: 'startPull', args: [request] });
      const pull = pullFixture({ id: `p${double.pulls.size + 1}`, repo: request.repo, include: request.include ?? [], exclude: request.exclude ?? [], state: 'queued', ...double.leak });
      double.pulls.set(pull.id, pull);
      return pull;
    },
    listPulls() {
      return [...double.pulls.values()];
    },
    async pause(id) {
      return transition(id, 'paused');
    },
    async resume(id) {
      return transition(id, 'downloading');
    },
    async cancel(id) {
      return transition(id, 'cancelled');
    },
    async remove(request) {
      double.calls.push({ method: 'remove', args: [request] });
      if (request.repo !== 'halo-test/tiny') throw httpError(404, 'model.not_local', `${request.repo} is not in the cache.`);
      return { repo: request.repo, removedRevisions: [request.revision ?? 'a'.repeat(40)], freedBytes: 1000 };
    },
    onPull(listener) {
      pullListeners.add(listener);
      return () => pullListeners.delete(listener);
    },
    onLocalChange(listener) {
      localListeners.add(listener);
      return () => localListeners.delete(listener);
    },
    async close() {
      double.closed = true;
    },
    emitPull(pull) {
      double.pulls.set(pull.id, pull);
      for (const l of pullListeners) l(pull);
    },
    emitLocalChange() {
      for (const l of localListeners) l();
    },
  };
  async function transition(id: string, state: PullInfo['state']): Promise<PullInfo> {
    double.calls.push({ method: state, args: [id] });
    const pull = double.pulls.get(id);
    if (!pull) throw httpError(404, 'pull.not_found', `No pull ${id}.`);
    const next = { ...pull, state };
    double.emitPull(next);
    return next;
  }
  return double;
}
