// Words and numbers for the Models screen: sizes, rates, time left, pull
// states, and the action that fixes each kind of failure.
import type { FailureCode } from '../api/failure';
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
 * What fixes a refusal that came back before any bytes moved (the API answers
 * those with a code, not a pull): the same actions a failed pull carries.
 */
export function actionForCode(code: FailureCode, modelUrl: string | null): PullAction | null {
  switch (code) {
    case 'model.gated':
    case 'model.pending':
      return { kind: 'accept-license', label: code === 'model.pending' ? 'Your request is awaiting review on the model page' : 'Accept the license on the model page', ...(modelUrl ? { url: modelUrl } : {}) };
    case 'model.no_token':
    case 'model.unauthorized':
      return { kind: 'connect-hf', label: 'Connect Hugging Face' };
    case 'model.not_found':
    case 'model.invalid_id':
    case 'model.revision_not_found':
    case 'model.entry_not_found':
    case 'model.no_match':
      return { kind: 'check-name', label: 'Check the name, revision and file patterns' };
    case 'model.disk_full':
      return { kind: 'free-space', label: 'Free space on the workstation’s disk, then pull again' };
    case 'model.cache_unwritable':
      return { kind: 'fix-permissions', label: 'Make the Hugging Face cache folder writable' };
    case 'model.network':
    case 'model.hub_unreachable':
    case 'network':
      return { kind: 'retry', label: 'Try again; finished files are kept' };
    default:
      return null;
  }
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
