import type { HfRole, HfSource, HfStatus, ModelAccess, ModelCheck } from '../../../shared/api';

export type Tone = 'ok' | 'warn' | 'danger' | 'info' | 'neutral';

const ROLE_WORDS: Record<Exclude<HfRole, null>, string> = {
  read: 'read token',
  write: 'write token',
  fineGrained: 'fine-grained token',
  admin: 'admin token',
};

export function connectedAs(status: HfStatus): string {
  const name = status.username ?? status.tokenName ?? 'an unknown account';
  return status.role ? `Connected as ${name} (${ROLE_WORDS[status.role]})` : `Connected as ${name}`;
}

const SOURCE_WORDS: Record<HfSource, string> = {
  env: 'HF_TOKEN in the environment that started Halo Forge',
  keyring: 'the workstation’s OS keyring',
  file: 'a private file on the workstation (~/.halo-forge/secrets, 0600)',
  'hf-cache': 'the token your Hugging Face tools saved',
  none: 'nowhere yet',
};

export function sourceWords(source: HfSource): string {
  return SOURCE_WORDS[source];
}

/** The badge everywhere Hugging Face access is summarised. */
export function hfAccessSummary(status: HfStatus | null): { tone: Tone; label: string } {
  if (!status) return { tone: 'neutral', label: 'Checking…' };
  if (!status.present) return { tone: 'neutral', label: 'Not connected' };
  if (status.source === 'env') return { tone: status.verified ? 'info' : 'warn', label: 'Using HF_TOKEN from the environment' };
  if (status.verified) return { tone: 'ok', label: connectedAs(status) };
  return { tone: 'warn', label: 'Needs attention' };
}

const ACCESS: Record<ModelAccess, { tone: Tone; label: string; advice: string }> = {
  granted: { tone: 'ok', label: 'Access granted', advice: 'This workstation can download the model.' },
  gated: { tone: 'warn', label: 'Gated: license not accepted', advice: 'Open the model page, accept the license with the account this token belongs to, then check again.' },
  not_found: { tone: 'danger', label: 'Not found', advice: 'No such model, or it is private and this token cannot see it. Check the spelling (owner/name).' },
  unauthorized: { tone: 'danger', label: 'Token not accepted', advice: 'The Hub did not accept the workstation’s token for this model. Save a valid read token above, then check again.' },
  unreachable: { tone: 'warn', label: 'Hub unreachable', advice: 'The workstation could not reach huggingface.co. Check its network, then try again.' },
};

export function modelAccessWords(check: ModelCheck): { tone: Tone; label: string; advice: string } {
  const words = ACCESS[check.access];
  if (check.access === 'gated' && check.gated === 'manual') {
    return { ...words, advice: 'The authors review each request by hand: open the model page, request access, and check again once they approve it.' };
  }
  return words;
}
