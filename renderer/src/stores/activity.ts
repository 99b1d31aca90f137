import { create } from 'zustand';
import type { AuditEntry } from '../../../shared/api';
import { api } from '../api/client';
import { ApiFailure, explainFailure, type Explained } from '../api/failure';

export type LiveState = 'off' | 'connecting' | 'live' | 'reconnecting';

const KEEP = 50;
const RETRY_MS = [1_000, 2_000, 5_000, 15_000];

interface ActivityState {
  entries: AuditEntry[];
  loaded: boolean;
  error: Explained | null;
  live: LiveState;
  load(limit?: number): Promise<void>;
  /** Adds entries (from the list or the stream), newest first, each once. */
  receive(entries: AuditEntry[]): void;
  /** Follows the live stream, reconnecting when it drops; returns the function that stops it. */
  follow(): () => void;
}

export function entryKey(e: AuditEntry): string {
  return [e.time, e.event, e.token ?? '', e.address ?? '', e.reason ?? '', e.detail ?? ''].join('\u0000');
}

export function mergeEntries(current: AuditEntry[], incoming: AuditEntry[], keep = KEEP): AuditEntry[] {
  const seen = new Set<string>();
  const all: AuditEntry[] = [];
  for (const entry of [...incoming, ...current]) {
    const key = entryKey(entry);
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(entry);
  }
  // ISO timestamps sort as strings; the sort is stable for equal times.
  return all.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, keep);
}

export const useActivity = create<ActivityState>()((set, get) => ({
  entries: [],
  loaded: false,
  error: null,
  live: 'off',

  async load(limit = 25) {
    try {
      const entries = await api.recentActivity(limit);
      get().receive(entries);
      set({ loaded: true, error: null });
    } catch (err) {
      set({ loaded: true, error: explainFailure(err) });
    }
  },

  receive(entries) {
    set({ entries: mergeEntries(get().entries, entries) });
  },

  follow() {
    const controller = new AbortController();
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;

    const connect = async () => {
      set({ live: attempt === 0 ? 'connecting' : 'reconnecting' });
      try {
        await api.followActivity((entry) => get().receive([entry]), {
          signal: controller.signal,
          onOpen: () => {
            attempt = 0;
            set({ live: 'live', error: null });
            // Whatever happened while the stream was down.
            void get().load();
          },
        });
      } catch (err) {
        if (controller.signal.aborted) return;
        // A refused or too-small token will not get better by retrying.
        if (err instanceof ApiFailure && (err.status === 401 || err.status === 403)) {
          set({ live: 'off', error: explainFailure(err) });
          return;
        }
      }
      if (controller.signal.aborted) return;
      const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]!;
      attempt++;
      set({ live: 'reconnecting' });
      timer = setTimeout(() => void connect(), wait);
    };
    void connect();

    return () => {
      controller.abort();
      if (timer) clearTimeout(timer);
      set({ live: 'off' });
    };
  },
}));
