import type { AccessMissing } from '../../../shared/serving';

/** One of spec 001's three ways out when a model cannot be served for lack of access. */
export interface AccessAction {
  kind: 'connect-hf' | 'choose-open-model' | 'open-model-page';
  label: string;
  /** A dashboard route (`#/…`) or the model's page on the Hub (https only). */
  href: string;
  external: boolean;
}

const DEFAULT_LABELS: Record<AccessAction['kind'], string> = {
  'connect-hf': 'Connect Hugging Face',
  'choose-open-model': 'Choose an open model',
  'open-model-page': 'Open the model page',
};

/** Only an https page is offered: a `javascript:` or `file:` URL from a bad answer must never become a link. */
function safePage(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

export function accessReason(access: AccessMissing): string {
  if (access.reason === 'not_pulled') return `${access.repo} is not on this workstation. Pull it on the Models screen, or choose a model that is.`;
  if (access.reason === 'gated') return `${access.repo} is gated: its license must be accepted on Hugging Face, with the account whose token this workstation holds.`;
  return `${access.repo} is private: only a Hugging Face token with access to it can pull it.`;
}

/**
 * The three actions, always all three and in the spec's order, with the
 * backend's labels where it sent them. The model page falls back to the
 * repo's address on the Hub when the answer names none.
 */
export function accessActions(access: AccessMissing): AccessAction[] {
  const sent = new Map((access.actions ?? []).map((a) => [a.kind, a]));
  const page = safePage(sent.get('open-model-page')?.url) ?? safePage(access.url) ?? `https://huggingface.co/${access.repo.split('/').map(encodeURIComponent).join('/')}`;
  const label = (kind: AccessAction['kind']) => sent.get(kind)?.label || DEFAULT_LABELS[kind];
  return [
    { kind: 'connect-hf', label: label('connect-hf'), href: '#/huggingface', external: false },
    { kind: 'choose-open-model', label: label('choose-open-model'), href: '#/models', external: false },
    { kind: 'open-model-page', label: label('open-model-page'), href: page, external: true },
  ];
}
