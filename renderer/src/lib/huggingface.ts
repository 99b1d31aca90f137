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

/** The Hub says a request for a manually gated model awaits its authors' review. */
export function isRequestPending(check: ModelCheck): boolean {
  return check.access === 'gated' && /awaiting a review/i.test(check.message);
}

export function modelAccessWords(check: ModelCheck): { tone: Tone; label: string; advice: string } {
  const words = ACCESS[check.access];
  if (isRequestPending(check)) {
    return { tone: 'info', label: 'Request pending', advice: 'You asked for access; the authors review each request by hand. Check again once they have approved it.' };
  }
  if (check.access === 'gated' && check.gated === 'manual') {
    return { ...words, advice: 'The authors review each request by hand: open the model page, request access, and check again once they approve it.' };
  }
  return words;
}

/** Only a model that exists has a page worth opening. */
export function offersModelPage(check: ModelCheck): boolean {
  return check.url !== '' && check.access !== 'not_found';
}

/**
 * The backend's message names the model page's URL, for the CLI. The
 * dashboard shows that page as a button beside it, so the URL goes from the text.
 */
export function modelCheckMessage(check: ModelCheck): string {
  if (!check.url) return check.message;
  return check.message
    .replaceAll(` (${check.url})`, '')
    .replaceAll(`at ${check.url}`, 'on its page')
    .replaceAll(`open ${check.url}`, 'open the model page')
    .replaceAll(check.url, 'the model page');
}

const HUB_HOSTS = new Set(['huggingface.co', 'www.huggingface.co', 'hf.co']);

/**
 * What the model field accepts: owner/name, or a huggingface.co address
 * pasted from the browser (https://huggingface.co/owner/name/tree/main...).
 * Anything else is passed on as typed, for the workstation to judge.
 */
export function modelIdFrom(input: string): string {
  const text = input.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z]+:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return text;
  }
  if (!HUB_HOSTS.has(url.hostname.toLowerCase())) return text;
  const [owner, name] = url.pathname.split('/').filter(Boolean);
  if (!owner || !name || ['datasets', 'spaces', 'models', 'docs', 'settings'].includes(owner)) return text;
  return `${owner}/${name}`;
}

/**
 * A failed "Save and verify" because the Hub was unreachable: the backend's
 * message ends with how to skip the check through the API or the CLI; here a
 * button does that, so the sentence about it goes.
 */
export function hubUnreachableDetail(message: string): string {
  const cut = message.indexOf(' Nothing was saved.');
  const reason = cut === -1 ? message : message.slice(0, cut);
  return `${reason} Nothing was saved: try again once the workstation is online, or save the token without verifying it.`;
}
