import { create } from 'zustand';
import type { ConnectionInfo } from '../../../shared/api';
import { api } from '../api/client';
import { explainFailure, type Explained } from '../api/failure';

interface ConnectionState {
  info: ConnectionInfo | null;
  error: Explained | null;
  remotePending: boolean;
  remoteError: Explained | null;
  load(): Promise<void>;
  setRemoteAccess(enabled: boolean): Promise<boolean>;
  /** A token was created elsewhere: the "no token yet" offer no longer applies. */
  noteTokenCreated(): void;
}

export const useConnection = create<ConnectionState>()((set, get) => ({
  info: null,
  error: null,
  remotePending: false,
  remoteError: null,

  async load() {
    try {
      set({ info: await api.connection(), error: null });
    } catch (err) {
      set({ error: explainFailure(err) });
    }
  },

  async setRemoteAccess(enabled) {
    set({ remotePending: true, remoteError: null });
    try {
      const remote = await api.setRemoteAccess({ enabled });
      const info = get().info;
      set({ info: info ? { ...info, remote } : info });
      // tokenCount and needsToken may have moved too; the switch answer is enough to render now.
      void get().load();
      return true;
    } catch (err) {
      set({ remoteError: explainFailure(err) });
      return false;
    } finally {
      set({ remotePending: false });
    }
  },

  noteTokenCreated() {
    const info = get().info;
    if (info) set({ info: { ...info, tokenCount: info.tokenCount + 1, remote: { ...info.remote, needsToken: false } } });
  },
}));
