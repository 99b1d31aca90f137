import { create } from 'zustand';
import { FINISHED_RUN_STATES, type MetricPoint, type Recipe, type RunInfo, type RunStartRequest } from '../../../shared/runs';
import { api } from '../api/client';
import { explainFailure, type Explained } from '../api/failure';
import { keepFollowing, type LiveState } from '../api/live-stream';
import { appendLog, EMPTY_LOG, type RunLog } from '../lib/run-log';
import { mergePoints } from '../lib/run-metrics';

export { runPermissions, type RunPermissions } from '../lib/run-permissions';

/** The list has no stream of its own; a local list every few seconds costs nothing. */
export const LIST_REFRESH_MS = 3_000;

/** What the browser holds of one run it is watching: the live log and its metric points. */
export interface RunView {
  log: RunLog;
  points: MetricPoint[];
  /** `ended`: the run is finished and the stream said all it had. */
  live: LiveState | 'ended';
  error: Explained | null;
}

const EMPTY_VIEW: RunView = { log: EMPTY_LOG, points: [], live: 'off', error: null };

export function isFinished(run: Pick<RunInfo, 'state'>): boolean {
  return FINISHED_RUN_STATES.includes(run.state);
}

/** Newest first, as the backend lists them; a run seen again replaces itself. */
export function upsertRun(runs: readonly RunInfo[], run: RunInfo): RunInfo[] {
  const at = runs.findIndex((r) => r.id === run.id);
  if (at >= 0) return runs.map((r, i) => (i === at ? run : r));
  return [run, ...runs].sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
}

interface RunsState {
  runs: RunInfo[];
  loaded: boolean;
  error: Explained | null;
  recipes: Recipe[];
  recipesLoaded: boolean;
  recipesError: Explained | null;
  views: Record<string, RunView>;
  /** What is under way: "start", "recipe:NAME", "stop:ID", "save:ID", "delete:NAME". */
  busy: string | null;
  actionError: Explained | null;
  load(): Promise<void>;
  loadRecipes(): Promise<void>;
  start(request: RunStartRequest): Promise<RunInfo | null>;
  startRecipe(name: string): Promise<RunInfo | null>;
  saveRecipe(runId: string, name: string): Promise<Recipe | null>;
  deleteRecipe(name: string): Promise<boolean>;
  stop(id: string): Promise<boolean>;
  clearActionError(): void;
  receiveRun(run: RunInfo): void;
  receiveLog(id: string, text: string): void;
  receivePoints(id: string, points: MetricPoint[]): void;
  /** Follows one run's events (log, metrics, state) until it ends; returns the function that stops watching. */
  watch(id: string): () => void;
  /** Refreshes the list every few seconds; returns the function that stops it. */
  poll(): () => void;
}

export const useRuns = create<RunsState>()((set, get) => {
  const view = (id: string): RunView => get().views[id] ?? EMPTY_VIEW;
  const updateView = (id: string, change: (v: RunView) => Partial<RunView>) => {
    const current = view(id);
    set({ views: { ...get().views, [id]: { ...current, ...change(current) } } });
  };

  async function act<T>(busy: string, work: () => Promise<T>): Promise<T | null> {
    set({ busy, actionError: null });
    try {
      return await work();
    } catch (err) {
      set({ actionError: explainFailure(err) });
      return null;
    } finally {
      set({ busy: null });
    }
  }

  return {
    runs: [],
    loaded: false,
    error: null,
    recipes: [],
    recipesLoaded: false,
    recipesError: null,
    views: {},
    busy: null,
    actionError: null,

    async load() {
      try {
        set({ runs: await api.listRuns(), loaded: true, error: null });
      } catch (err) {
        set({ loaded: true, error: explainFailure(err) });
      }
    },

    async loadRecipes() {
      try {
        set({ recipes: await api.listRecipes(), recipesLoaded: true, recipesError: null });
      } catch (err) {
        set({ recipesLoaded: true, recipesError: explainFailure(err) });
      }
    },

    async start(request) {
      const run = await act('start', () => api.startRun(request));
      if (run) get().receiveRun(run);
      return run;
    },

    async startRecipe(name) {
      const run = await act(`recipe:${name}`, () => api.startRecipe(name));
      if (run) get().receiveRun(run);
      return run;
    },

    async saveRecipe(runId, name) {
      const recipe = await act(`save:${runId}`, () => api.saveRunAsRecipe(runId, name));
      if (recipe) set({ recipes: [...get().recipes.filter((r) => r.name !== recipe.name), recipe].sort((a, b) => a.name.localeCompare(b.name)) });
      return recipe;
    },

    async deleteRecipe(name) {
      const removed = await act(`delete:${name}`, () => api.deleteRecipe(name));
      if (removed) set({ recipes: get().recipes.filter((r) => r.name !== name) });
      return removed !== null;
    },

    async stop(id) {
      const run = await act(`stop:${id}`, () => api.stopRun(id));
      if (run) get().receiveRun(run);
      return run !== null;
    },

    clearActionError() {
      set({ actionError: null });
    },

    receiveRun(run) {
      set({ runs: upsertRun(get().runs, run) });
    },

    receiveLog(id, text) {
      updateView(id, (v) => ({ log: appendLog(v.log, text) }));
    },

    receivePoints(id, points) {
      updateView(id, (v) => ({ points: mergePoints(v.points, points) }));
    },

    watch(id) {
      let ended = false;
      const stop = keepFollowing({
        follow: (signal, opened) =>
          api.followRun(
            id,
            {
              onRun: (run) => get().receiveRun(run),
              onLog: (text) => get().receiveLog(id, text),
              onMetric: (point) => get().receivePoints(id, [point]),
              onEnd: (run) => {
                ended = true;
                get().receiveRun(run);
              },
            },
            { signal, onOpen: opened },
          ),
        // Each connection starts with the log's tail again: start the page's copy afresh.
        onState: (live) => updateView(id, () => (live === 'live' ? { live, error: null, log: EMPTY_LOG } : { live })),
        // A refused token, a too-small scope or a run that is gone will not get better by retrying.
        stopOn: [401, 403, 404],
        onStopped: (failure) => updateView(id, () => ({ live: 'off', error: explainFailure(failure) })),
        finished: () => ended,
        onFinished: () => updateView(id, () => ({ live: 'ended' })),
      });

      return () => {
        stop();
        // The log and points are let go with the page: watching again replays them.
        const { [id]: _gone, ...rest } = get().views;
        set({ views: rest });
      };
    },

    poll() {
      void get().load();
      const timer = setInterval(() => void get().load(), LIST_REFRESH_MS);
      return () => clearInterval(timer);
    },
  };
});
