import { create } from 'zustand';
import type { HfStatus, ModelCheck } from '../../../shared/api';
import { api } from '../api/client';
import { ApiFailure, explainFailure, type Explained } from '../api/failure';
import { connectedAs, hubUnreachableDetail, modelIdFrom, sourceWords } from '../lib/huggingface';

const RECHECKS = 3;
const RECHECK_MS = 1_500;

export type HfBusy = 'idle' | 'verifying' | 'saving' | 'adopting' | 'clearing' | 'reverifying';
export type SaveOutcome = 'saved' | 'unreachable' | 'failed';

export interface Outcome extends Explained {
  tone: 'ok' | 'warn' | 'danger';
}

export interface ModelCheckState {
  phase: 'idle' | 'checking' | 'done' | 'failed';
  result: ModelCheck | null;
  error: Explained | null;
}

interface HuggingFaceState {
  status: HfStatus | null;
  loaded: boolean;
  error: Explained | null;
  busy: HfBusy;
  outcome: Outcome | null;
  /** Only when the Hub could not be reached: saving without verifying is then a reasonable choice. */
  offerUnverified: boolean;
  check: ModelCheckState;
  load(attempt?: number): Promise<void>;
  /**
   * Sends the token to the workstation. The token is an argument, never
   * state: it is not kept here, in storage, or anywhere after the call.
   */
  save(token: string, verify?: boolean): Promise<SaveOutcome>;
  adoptHfTools(): Promise<void>;
  clear(): Promise<boolean>;
  verifyAgain(): Promise<void>;
  checkModel(model: string): Promise<void>;
  dismissOutcome(): void;
}

function savedOutcome(status: HfStatus, verified: boolean): Outcome {
  if (verified && status.verified) return { tone: 'ok', title: connectedAs(status), detail: `Saved in ${sourceWords(status.source)}. This browser keeps nothing.` };
  return { tone: 'warn', title: 'Saved without verifying', detail: status.message || 'The workstation will verify the token once it can reach Hugging Face.' };
}

export const useHuggingFace = create<HuggingFaceState>()((set, get) => ({
  status: null,
  loaded: false,
  error: null,
  busy: 'idle',
  outcome: null,
  offerUnverified: false,
  check: { phase: 'idle', result: null, error: null },

  async load(attempt = 0) {
    try {
      const status = await api.hfStatus();
      set({ status, loaded: true, error: null });
      // A token never checked is being verified in the background on the workstation
      // (never on this request's path); look again shortly for the verdict.
      if (status.present && !status.verified && status.checkedAt === null && attempt < RECHECKS) {
        setTimeout(() => void get().load(attempt + 1), RECHECK_MS);
      }
    } catch (err) {
      set({ loaded: true, error: explainFailure(err) });
    }
  },

  async save(token, verify = true) {
    set({ busy: verify ? 'verifying' : 'saving', outcome: null, offerUnverified: false });
    try {
      const status = await api.hfSave({ token: token.trim(), verify });
      set({ status, outcome: savedOutcome(status, verify) });
      return 'saved';
    } catch (err) {
      const unreachable = err instanceof ApiFailure && err.code === 'hf.unreachable';
      const explained = explainFailure(err);
      if (unreachable) explained.detail = hubUnreachableDetail(explained.detail);
      set({ outcome: { tone: unreachable ? 'warn' : 'danger', ...explained }, offerUnverified: unreachable && verify });
      return unreachable ? 'unreachable' : 'failed';
    } finally {
      set({ busy: 'idle' });
    }
  },

  async adoptHfTools() {
    set({ busy: 'adopting', outcome: null, offerUnverified: false });
    try {
      const status = await api.hfSave({ adoptHfCache: true, verify: true });
      set({ status, outcome: savedOutcome(status, true) });
    } catch (err) {
      set({ outcome: { tone: 'danger', ...explainFailure(err) } });
    } finally {
      set({ busy: 'idle' });
    }
  },

  async clear() {
    set({ busy: 'clearing', outcome: null, offerUnverified: false });
    try {
      const status = await api.hfClear();
      set({ status, outcome: { tone: 'ok', title: 'Token cleared', detail: status.present ? status.message : 'The workstation no longer holds a Hugging Face token.' } });
      return true;
    } catch (err) {
      set({ outcome: { tone: 'danger', ...explainFailure(err) } });
      return false;
    } finally {
      set({ busy: 'idle' });
    }
  },

  async verifyAgain() {
    set({ busy: 'reverifying', outcome: null });
    try {
      const status = await api.hfVerify();
      set({ status, outcome: status.verified ? { tone: 'ok', title: connectedAs(status), detail: status.message } : { tone: 'warn', title: 'Not verified', detail: status.message } });
    } catch (err) {
      set({ outcome: { tone: 'danger', ...explainFailure(err) } });
    } finally {
      set({ busy: 'idle' });
    }
  },

  async checkModel(model) {
    set({ check: { phase: 'checking', result: null, error: null } });
    try {
      set({ check: { phase: 'done', result: await api.checkModel(modelIdFrom(model)), error: null } });
    } catch (err) {
      set({ check: { phase: 'failed', result: null, error: explainFailure(err) } });
    }
  },

  dismissOutcome() {
    set({ outcome: null, offerUnverified: false });
  },
}));
