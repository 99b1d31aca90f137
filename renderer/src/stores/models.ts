import { create } from 'zustand';
import type { LocalModelList, ModelDetails, ModelSearchResult, PullAction, PullInfo, PullRequest } from '../../../shared/models';
import { api } from '../api/client';
import { ApiFailure, explainFailure, type Explained } from '../api/failure';
import { keepFollowing, type LiveState } from '../api/live-stream';
import { actionForFailure, modelIdFromInput } from '../lib/models';

/** A failure a person can act on: what went wrong and what fixes it. */
export interface ActionableError extends Explained {
  action: PullAction | null;
}

export interface SearchState {
  phase: 'idle' | 'searching' | 'done' | 'failed';
  result: ModelSearchResult | null;
  error: Explained | null;
}

export interface SelectedModel {
  repo: string;
  phase: 'loading' | 'done' | 'failed';
  details: ModelDetails | null;
  error: ActionableError | null;
}

interface ModelsState {
  search: SearchState;
  selected: SelectedModel | null;
  local: LocalModelList | null;
  localError: Explained | null;
  /** Keyed by pull id; the stream keeps each one current. */
  pulls: Record<string, PullInfo>;
  /** The repo whose pull is being started, and why the last start was refused. */
  starting: string | null;
  startError: ActionableError | null;
  busyPull: string | null;
  deleting: boolean;
  live: LiveState;
  find(query: string): Promise<void>;
  open(repo: string, revision?: string): Promise<void>;
  close(): void;
  loadLocal(): Promise<void>;
  loadPulls(): Promise<void>;
  startPull(request: PullRequest): Promise<boolean>;
  steer(id: string, action: 'pause' | 'resume' | 'cancel'): Promise<void>;
  remove(repo: string, revision?: string): Promise<Explained | null>;
  receivePull(pull: PullInfo): void;
  /** Follows the event stream, reconnecting when it drops; returns the function that stops it. */
  follow(): () => void;
}

/** Text shaped like a secret is never put in a URL or sent: a search box is a common place to paste one by mistake. */
export function looksLikeSecret(text: string): boolean {
  return /(^|[\s/:=])(hf_|hfk_|api_org_)[A-Za-z0-9]/.test(text.trim());
}

const SECRET_REFUSED: Explained = {
  title: 'That looks like a token',
  detail: 'It was not sent anywhere. Search for a model by name, org/name or a huggingface.co link; save a Hugging Face token on the Hugging Face screen.',
};

function actionable(err: unknown): ActionableError {
  return { ...explainFailure(err), action: actionForFailure(err) };
}

/** Counts local lists received, so that an older answer never replaces a newer one. */
let localSeen = 0;

/**
 * The stream can be quicker than the answer to the request that started a
 * pull: a pull that fails at once has sent "failed" before the POST's
 * "downloading" arrives. An answer never replaces what the stream said since
 * the request was sent.
 */
let streamSeq = 0;
const streamedAt = new Map<string, number>();
function fromAnswer(pull: PullInfo, sentAt: number): PullInfo | null {
  return (streamedAt.get(pull.id) ?? -1) > sentAt ? null : pull;
}


export const useModels = create<ModelsState>()((set, get) => ({
  search: { phase: 'idle', result: null, error: null },
  selected: null,
  local: null,
  localError: null,
  pulls: {},
  starting: null,
  startError: null,
  busyPull: null,
  deleting: false,
  live: 'off',

  async find(query) {
    const text = query.trim();
    if (text === '') return;
    if (looksLikeSecret(text)) return set({ search: { phase: 'failed', result: null, error: SECRET_REFUSED } });
    set({ search: { ...get().search, phase: 'searching', error: null } });
    try {
      const result = await api.searchModels(text);
      set({ search: { phase: 'done', result, error: null } });
      // A pasted link or exact org/name opens that model's page at once.
      const id = modelIdFromInput(text);
      if (id && result.models.some((m) => m.id.toLowerCase() === id.toLowerCase()) && /^https?:/i.test(text)) void get().open(id);
    } catch (err) {
      set({ search: { phase: 'failed', result: null, error: explainFailure(err) } });
    }
  },

  async open(repo, revision) {
    set({ selected: { repo, phase: 'loading', details: null, error: null }, startError: null });
    try {
      const details = await api.modelDetails(repo, revision);
      if (get().selected?.repo === repo) set({ selected: { repo, phase: 'done', details, error: null } });
    } catch (err) {
      if (get().selected?.repo === repo) set({ selected: { repo, phase: 'failed', details: null, error: actionable(err) } });
    }
  },

  close() {
    set({ selected: null, startError: null });
  },

  async loadLocal() {
    const asked = localSeen;
    try {
      const local = await api.localModels();
      // The stream may have sent a newer list while this one was on its way.
      if (localSeen !== asked) return;
      localSeen++;
      set({ local, localError: null });
    } catch (err) {
      set({ localError: explainFailure(err) });
    }
  },

  async loadPulls() {
    try {
      const pulls = await api.listPulls();
      set({ pulls: { ...get().pulls, ...Object.fromEntries(pulls.map((p) => [p.id, p])) } });
    } catch {
      // The stream sends every pull when it opens; this list only fills the gap before.
    }
  },

  async startPull(request) {
    set({ starting: request.repo, startError: null });
    const sentAt = streamSeq;
    try {
      const answer = fromAnswer(await api.startPull(request), sentAt);
      if (answer) get().receivePull(answer);
      return true;
    } catch (err) {
      set({ startError: actionable(err) });
      return false;
    } finally {
      set({ starting: null });
    }
  },

  async steer(id, action) {
    set({ busyPull: id });
    const sentAt = streamSeq;
    try {
      const answer = fromAnswer(await api.pullAction(id, action), sentAt);
      if (answer) get().receivePull(answer);
    } catch (err) {
      const pull = get().pulls[id];
      if (pull) get().receivePull({ ...pull, error: { code: err instanceof ApiFailure ? err.code : 'internal', message: explainFailure(err).detail, action: null } });
    } finally {
      set({ busyPull: null });
    }
  },

  async remove(repo, revision) {
    set({ deleting: true });
    try {
      await api.deleteModel(repo, revision);
      await get().loadLocal();
      const selected = get().selected;
      if (selected?.repo === repo) void get().open(repo, selected.details?.revision);
      return null;
    } catch (err) {
      return explainFailure(err);
    } finally {
      set({ deleting: false });
    }
  },

  receivePull(pull) {
    set({ pulls: { ...get().pulls, [pull.id]: pull } });
  },

  follow() {
    const stop = keepFollowing({
      follow: (signal, opened) =>
        api.followModels(
          {
            onPull: (pull) => {
              streamedAt.set(pull.id, ++streamSeq);
              get().receivePull(pull);
            },
            onLocal: (local) => {
              localSeen++;
              set({ local, localError: null });
            },
          },
          { signal, onOpen: opened },
        ),
      onState: (live) => set({ live }),
      // Whatever changed while the stream was down.
      onOpen: () => void get().loadLocal(),
      onStopped: () => set({ live: 'off' }),
    });
    return () => {
      stop();
      set({ live: 'off' });
    };
  },
}));

/** The newest pull of a repo, the one its page shows. */
export function latestPullOf(pulls: Record<string, PullInfo>, repo: string): PullInfo | null {
  let latest: PullInfo | null = null;
  for (const pull of Object.values(pulls)) {
    if (pull.repo.toLowerCase() !== repo.toLowerCase()) continue;
    if (!latest || pull.startedAt > latest.startedAt) latest = pull;
  }
  return latest;
}

/**
 * A local user (or an open server) or an operate/admin token may pull and
 * delete. Named, not "anything but read": an inference token reaches /v1 only,
 * and a scope added later must not gain the controls by default.
 */
export function canOperate(state: { session: { authRequired: boolean; token: { scope: string } | null } | null; refused: unknown }): boolean {
  const session = state.session;
  if (!session || state.refused) return false;
  return session.token ? session.token.scope === 'operate' || session.token.scope === 'admin' : !session.authRequired;
}
