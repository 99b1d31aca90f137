import type { RunStreamEvent } from '../../../shared/runs.js';

type Listener = (event: RunStreamEvent) => void;

/** Live events per run, for the API's event streams. */
export class RunEvents {
  private readonly listeners = new Map<string, Set<Listener>>();

  /** Returns the unsubscribe. */
  subscribe(id: string, listener: Listener): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  emit(id: string, event: RunStreamEvent): void {
    // A copy: a listener may unsubscribe (its stream ended) while being told.
    for (const listener of [...(this.listeners.get(id) ?? [])]) listener(event);
  }
}
