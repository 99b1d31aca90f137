import { create } from 'zustand';
import type { TokenCreated, TokenCreateRequest, TokenInfo } from '../../../shared/api';
import { api } from '../api/client';
import { explainFailure, type Explained } from '../api/failure';

interface ApiTokensState {
  tokens: TokenInfo[];
  loaded: boolean;
  error: Explained | null;
  /** The one response that carries a secret; dropped the moment its dialog closes. */
  created: TokenCreated | null;
  creating: boolean;
  createError: Explained | null;
  revoking: string | null;
  revokeError: Explained | null;
  load(): Promise<void>;
  create(request: TokenCreateRequest): Promise<boolean>;
  dismissCreated(): void;
  clearCreateError(): void;
  revoke(name: string): Promise<boolean>;
}

export const useApiTokens = create<ApiTokensState>()((set, get) => ({
  tokens: [],
  loaded: false,
  error: null,
  created: null,
  creating: false,
  createError: null,
  revoking: null,
  revokeError: null,

  async load() {
    try {
      set({ tokens: await api.listTokens(), loaded: true, error: null });
    } catch (err) {
      set({ loaded: true, error: explainFailure(err) });
    }
  },

  async create(request) {
    set({ creating: true, createError: null });
    try {
      const created = await api.createToken(request);
      const { token: _secret, ...info } = created;
      set({ created, tokens: [...get().tokens.filter((t) => t.name !== info.name), info] });
      return true;
    } catch (err) {
      set({ createError: explainFailure(err) });
      return false;
    } finally {
      set({ creating: false });
    }
  },

  dismissCreated() {
    set({ created: null });
  },

  clearCreateError() {
    set({ createError: null });
  },

  async revoke(name) {
    set({ revoking: name, revokeError: null });
    try {
      await api.revokeToken(name);
      set({ tokens: get().tokens.filter((t) => t.name !== name) });
      return true;
    } catch (err) {
      set({ revokeError: explainFailure(err) });
      return false;
    } finally {
      set({ revoking: null });
    }
  },
}));
