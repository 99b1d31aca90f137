import { useMemo } from 'react';
import { create } from 'zustand';
import type { AccessMissing, RunningModel, ServingStatus } from '../../../shared/serving';
import { api } from '../api/client';
import { ApiFailure, explainFailure, type Explained } from '../api/failure';
import { keepFollowing } from '../api/live-stream';
import { useSession } from './session';

/** Lines of a runtime's log kept on screen; the whole log is in the file under the Halo Forge home. */
const LOG_LINES = 400;

/** What this browser's token may do with models: run and stop them, chat with them, and why not. */
export interface ServingRights {
  run: boolean;
  chat: boolean;
  /** Why chat (or run) is refused, in words; null when both are allowed. */
  why: string | null;
}

type SessionLike = { session: { authRequired: boolean; token: { name: string; scope: string } | null } | null; refused: unknown };

/**
 * admin and operate run models and chat; inference (an OpenAI client's
 * token) only chats, since /api/public is closed to it; read chats with
 * nothing: /v1's POSTs are refused to it. With no token needed, everything.
 */
export function servingRights(state: SessionLike): ServingRights {
  const session = state.session;
  if (!session || state.refused) return { run: false, chat: false, why: 'This browser has no working token for the workstation. Open Connection to add one.' };
  if (!session.token) {
    return session.authRequired ? { run: false, chat: false, why: 'This workstation needs an API token. Open Connection to add one.' } : { run: true, chat: true, why: null };
  }
  const { name, scope } = session.token;
  if (scope === 'admin' || scope === 'operate') return { run: true, chat: true, why: null };
  if (scope === 'inference') return { run: false, chat: true, why: `The token “${name}” has the inference scope: it can chat with models but not run or stop them. An operate or admin token can.` };
  return { run: false, chat: false, why: `The token “${name}” has the read scope: it can look, but not run models or chat with them. Use an operate token (or an inference token to chat only).` };
}

/** The rights of this browser's token, re-rendering only when the session changes. */
export function useServingRights(): ServingRights {
  const session = useSession((s) => s.session);
  const refused = useSession((s) => s.refused);
  return useMemo(() => servingRights({ session, refused }), [session, refused]);
}

export interface RunOutcome extends Explained {
  access: AccessMissing | null;
}

interface ServingStoreState {
  status: ServingStatus | null;
  error: Explained | null;
  live: 'off' | 'connecting' | 'live' | 'reconnecting';
  /** Model ids with a run or stop request in flight. */
  pending: Record<string, 'run' | 'stop'>;
  /** The last run/stop failure, per model id (or repo). */
  failures: Record<string, RunOutcome>;
  /** The model whose log is open, and its lines so far. */
  log: { model: string; text: string; phase: 'loading' | 'live' | 'ended' | 'failed'; error: Explained | null } | null;
  load(): Promise<void>;
  follow(): () => void;
  run(model: string): Promise<RunOutcome | null>;
  stop(model: string): Promise<RunOutcome | null>;
  /** Opens the live log of a model (closing any other); returns the function that closes it. */
  openLog(model: string): () => void;
  closeLog(): void;
}

function outcome(err: unknown): RunOutcome {
  return { ...explainFailure(err), access: err instanceof ApiFailure ? err.access : null };
}

/** Keeps the last LOG_LINES lines: a chatty runtime must not grow the page without end. */
export function appendLog(text: string, more: string): string {
  const joined = text && !text.endsWith('\n') ? `${text}\n${more}` : text + more;
  const lines = joined.split('\n');
  const trailing = lines[lines.length - 1] === '' ? 1 : 0;
  return lines.length - trailing > LOG_LINES ? lines.slice(lines.length - trailing - LOG_LINES).join('\n') : joined;
}

let closeOpenLog: (() => void) | null = null;

export const useServing = create<ServingStoreState>()((set, get) => ({
  status: null,
  error: null,
  live: 'off',
  pending: {},
  failures: {},
  log: null,

  async load() {
    try {
      set({ status: await api.servingStatus(), error: null });
    } catch (err) {
      set({ error: explainFailure(err) });
    }
  },

  follow() {
    const stop = keepFollowing({
      follow: (signal, opened) => api.followServing((status) => set({ status, error: null }), { signal, onOpen: opened }),
      onState: (live) => set({ live }),
      stopOn: [401, 403, 404],
      onStopped: () => set({ live: 'off' }),
    });
    return () => {
      stop();
      set({ live: 'off' });
    };
  },

  async run(model) {
    return act(model, 'run', () => api.runModel({ model }));
  },

  async stop(model) {
    return act(model, 'stop', () => api.stopModel({ model }));
  },

  openLog(model) {
    closeOpenLog?.();
    const controller = new AbortController();
    set({ log: { model, text: '', phase: 'loading', error: null } });
    const mine = () => get().log?.model === model && !controller.signal.aborted;
    void api
      .followRuntimeLog(
        model,
        (text) => {
          if (mine()) set((s) => ({ log: s.log && { ...s.log, text: appendLog(s.log.text, text) } }));
        },
        { signal: controller.signal, onOpen: () => mine() && set((s) => ({ log: s.log && { ...s.log, phase: 'live' } })) },
      )
      .then(
        () => mine() && set((s) => ({ log: s.log && { ...s.log, phase: 'ended' } })),
        (err: unknown) => mine() && set((s) => ({ log: s.log && { ...s.log, phase: 'failed', error: explainFailure(err) } })),
      );
    const close = () => {
      controller.abort();
      if (closeOpenLog === close) closeOpenLog = null;
    };
    closeOpenLog = close;
    return close;
  },

  closeLog() {
    closeOpenLog?.();
    set({ log: null });
  },
}));

async function act(model: string, kind: 'run' | 'stop', request: () => Promise<RunningModel>): Promise<RunOutcome | null> {
  const { setState, getState } = useServing;
  setState((s) => {
    const failures = { ...s.failures };
    delete failures[model];
    return { pending: { ...s.pending, [model]: kind }, failures };
  });
  try {
    await request();
    // The event stream usually has the news already; a stream that is down must not leave the screen stale.
    if (getState().live !== 'live') await getState().load();
    return null;
  } catch (err) {
    const failed = outcome(err);
    setState((s) => ({ failures: { ...s.failures, [model]: failed } }));
    if (getState().live !== 'live') await getState().load();
    return failed;
  } finally {
    setState((s) => {
      const pending = { ...s.pending };
      delete pending[model];
      return { pending };
    });
  }
}

/** The running (or loading, or crashed) entry for a model id, if any. */
export function runningEntry(status: ServingStatus | null, model: string): RunningModel | null {
  return status?.models.find((m) => m.model === model) ?? null;
}
