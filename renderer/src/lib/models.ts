// Words and numbers for the Models screen: sizes, rates, time left, pull
// states, and the action that fixes a failure.
import { ApiFailure } from '../api/failure';
import type { PullAction, PullInfo, PullState } from '../../../shared/models';
import type { Tone } from './huggingface';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Decimal units, as the Hub and file managers show sizes: 4368439584 → "4.37 GB". */
export function formatBytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${UNITS[unit]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

/** 75 → "1 min 15 s left"; null → "" (not known yet). */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s left`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s left`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min left`;
}

export const PULL_STATE_WORDS: Record<PullState, { tone: Tone; label: string }> = {
  queued: { tone: 'neutral', label: 'Queued' },
  checking: { tone: 'info', label: 'Checking access' },
  downloading: { tone: 'info', label: 'Downloading' },
  paused: { tone: 'warn', label: 'Paused' },
  verifying: { tone: 'info', label: 'Verifying' },
  ready: { tone: 'ok', label: 'Ready' },
  failed: { tone: 'danger', label: 'Failed' },
  cancelled: { tone: 'neutral', label: 'Cancelled' },
  interrupted: { tone: 'warn', label: 'Interrupted' },
};

export const ACTIVE_STATES: readonly PullState[] = ['queued', 'checking', 'downloading', 'verifying'];

export function isActive(pull: PullInfo): boolean {
  return ACTIVE_STATES.includes(pull.state);
}

/** A stopped pull that Resume continues, its partial files kept. A failed one offers its own fix instead (Pull again, for a network failure). */
export function isResumable(pull: PullInfo): boolean {
  return pull.state === 'paused' || pull.state === 'interrupted';
}

/**
 * What fixes a failed Models call: the action the backend put in its answer
 * (it knows the reason and the model's page on the Hub it uses), or, when the
 * workstation did not answer at all, trying again. Never guessed from a code
 * here: the backend is the one place that names a fix.
 */
export function actionForFailure(failure: unknown): PullAction | null {
  if (!(failure instanceof ApiFailure)) return null;
  if (failure.action) return failure.action;
  return failure.code === 'network' ? { kind: 'retry', label: 'Try again once the workstation answers' } : null;
}

/** Progress as a share of the bytes, 0–100, whole. */
export function percentDone(pull: Pick<PullInfo, 'bytesDone' | 'bytesTotal'>): number {
  return pull.bytesTotal > 0 ? Math.min(100, Math.floor((pull.bytesDone / pull.bytesTotal) * 100)) : 0;
}

/** Turns what a person typed into what search and the model page take: a pasted model page link becomes org/name. */
export function modelIdFromInput(input: string): string | null {
  const text = input.trim();
  const link = /^https?:\/\/(?:www\.)?(?:huggingface\.co|hf\.co)\/(?:models\/)?([A-Za-z0-9][\w.-]*)\/([A-Za-z0-9][\w.-]*)/i.exec(text);
  if (link) return `${link[1]}/${link[2]}`;
  return /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(text) ? text : null;
}

/** `*.safetensors, config.json` → ['*.safetensors', 'config.json']: commas or spaces between globs. */
export function patternList(text: string): string[] {
  return text
    .split(/[,\s]+/)
    .map((p) => p.trim())
    .filter(Boolean);
}
