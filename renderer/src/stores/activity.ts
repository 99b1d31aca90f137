import { create } from 'zustand';
import type { AuditEntry } from '../../../shared/api';
import { api } from '../api/client';
import { explainFailure, type Explained } from '../api/failure';
import { keepFollowing, type LiveState } from '../api/live-stream';

export type { LiveState };

const KEEP = 50;

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
    const stop = keepFollowing({
      follow: (signal, opened) => api.followActivity((entry) => get().receive([entry]), { signal, onOpen: opened }),
      onState: (live) => set({ live }),
      onOpen: () => {
        set({ error: null });
        // Whatever happened while the stream was down.
        void get().load();
      },
      onStopped: (failure) => set({ live: 'off', error: explainFailure(failure) }),
    });
    return () => {
      stop();
      set({ live: 'off' });
    };
  },
}));
