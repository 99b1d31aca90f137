import { create } from 'zustand';
import type { MachineSnapshot, PullSummary } from '../../../shared/machine';
import { api, type MachineStreamEvent } from '../api/client';
import { explainFailure, type Explained } from '../api/failure';
import { keepFollowing, type LiveState } from '../api/live-stream';

export type MachineLive = LiveState;

/** The Overview retries sooner than the other screens: at most every 5 s. */
const RETRY_MS = [1_000, 2_000, 5_000];

interface MachineState {
  snapshot: MachineSnapshot | null;
  live: MachineLive;
  error: Explained | null;
  receive(event: MachineStreamEvent): void;
  /** Follows the live stream while the Overview is open; returns the function that stops it (and the sampling on the server). */
  follow(): () => void;
}

/** Pull progress arrives between snapshots; it replaces only the pulls. */
export function withPulls(snapshot: MachineSnapshot, pulls: PullSummary[]): MachineSnapshot {
  return { ...snapshot, models: { ...snapshot.models, pulls } };
}

export const useMachine = create<MachineState>()((set, get) => ({
  snapshot: null,
  live: 'off',
  error: null,

  receive(event) {
    if (event.type === 'machine') set({ snapshot: event.snapshot, error: null });
    else {
      const current = get().snapshot;
      if (current) set({ snapshot: withPulls(current, event.pulls) });
    }
  },

  follow() {
    const stop = keepFollowing({
      follow: (signal, opened) => api.followMachine((event) => get().receive(event), { signal, onOpen: opened }),
      onState: (live) => set(live === 'live' ? { live, error: null } : { live }),
      onStopped: (failure) => set({ live: 'off', error: explainFailure(failure) }),
      onFailure: (err) => set({ error: explainFailure(err) }),
      retryMs: RETRY_MS,
    });
    return () => {
      stop();
      set({ live: 'off' });
    };
  },
}));
