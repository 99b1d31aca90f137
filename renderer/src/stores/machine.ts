import { create } from 'zustand';
import type { MachineSnapshot, PullSummary } from '../../../shared/machine';
import { api, type MachineStreamEvent } from '../api/client';
import { ApiFailure, explainFailure, type Explained } from '../api/failure';

export type MachineLive = 'off' | 'connecting' | 'live' | 'reconnecting';

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
    const controller = new AbortController();
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const connect = async () => {
      set({ live: attempt === 0 ? 'connecting' : 'reconnecting' });
      try {
        await api.followMachine((event) => get().receive(event), {
          signal: controller.signal,
          onOpen: () => {
            attempt = 0;
            set({ live: 'live', error: null });
          },
        });
      } catch (err) {
        if (controller.signal.aborted) return;
        // A refused or too-small token will not get better by retrying.
        if (err instanceof ApiFailure && (err.status === 401 || err.status === 403)) {
          set({ live: 'off', error: explainFailure(err) });
          return;
        }
        set({ error: explainFailure(err) });
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
