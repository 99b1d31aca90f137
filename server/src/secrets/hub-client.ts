// The Hugging Face Hub as this workstation sees it: who a token belongs to,
// and whether a model can be downloaded. Outcomes are values, not throws, so
// callers decide what is an error for their user.
import type { HfRole, ModelCheck } from '../../../shared/api.js';
import { httpError } from '../errors.js';
import { looksLikeSecret, redactSecrets } from './redact.js';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** HF_ENDPOINT, the Hugging Face convention for mirrors and test hubs. */
export function hubUrl(env: NodeJS.ProcessEnv): string {
  const raw = env.HF_ENDPOINT?.trim() || DEFAULT_HUB_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw httpError(400, 'request.invalid', 'HF_ENDPOINT is not a URL; use e.g. https://huggingface.co or your mirror\'s address.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw httpError(400, 'request.invalid', 'HF_ENDPOINT must be an http:// or https:// URL.');
  // Credentials in the URL would be shown back in model-page links and messages (and fetch refuses them anyway).
  if (url.username || url.password) throw httpError(400, 'request.invalid', 'HF_ENDPOINT must not contain a user name or password; a mirror that needs credentials is not supported.');
  if (url.search || url.hash) throw httpError(400, 'request.invalid', 'HF_ENDPOINT must not contain a query string or fragment.');
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

export type WhoamiOutcome =
  | { kind: 'ok'; username: string; tokenName: string | null; role: HfRole; canWrite: boolean }
  | { kind: 'rejected'; reason: string }
  | { kind: 'unreachable'; reason: string; retryAfter: number | null };

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$/;

/** Null when `model` is a repo id the Hub could know (`org/name` or a legacy `name`), else why not. */
export function modelIdProblem(model: string): string | null {
  // People paste tokens into the wrong field: one must not travel to the Hub in a URL path, nor be quoted back.
  if (looksLikeSecret(model)) return 'This looks like an access token, not a Hugging Face model id; it was not sent anywhere. Use the form org/name, e.g. meta-llama/Llama-3.1-8B.';
  const parts = model.split('/');
  const ok = parts.length <= 2 && parts.every((p) => SEGMENT.test(p) && !p.includes('--') && !p.includes('..') && !/[.-]$/.test(p) && !p.endsWith('.git'));
  return ok ? null : `"${redactSecrets(model.slice(0, 100))}" is not a Hugging Face model id; use the form org/name, e.g. meta-llama/Llama-3.1-8B.`;
}

interface HubAnswer {
  status: number;
  errorCode: string | null;
  errorMessage: string | null;
  retryAfter: number | null;
  body: unknown;
}

type Reply = HubAnswer | { unreachable: string };

export class HubClient {
  private readonly fetch: typeof fetch;

  constructor(
    readonly url: string,
    options: { fetch?: typeof fetch; timeoutMs?: number } = {},
  ) {
    const base = options.fetch ?? globalThis.fetch;
    const timeoutMs = options.timeoutMs ?? 10_000;
    // Never follow a redirect with the token: a file under /resolve/ redirects to a CDN on another host.
    this.fetch = (input, init) => base(input, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), ...init });
  }

  async whoami(token: string): Promise<WhoamiOutcome> {
    const { whoAmI, HubApiError } = await import('@huggingface/hub');
    let last: Response | null = null;
    const fetchAndKeep: typeof fetch = async (input, init) => (last = await this.fetch(input, init));
    try {
      const me = await whoAmI({ accessToken: token, hubUrl: this.url, fetch: fetchAndKeep });
      if (typeof me?.name !== 'string' || !me.name) return { kind: 'unreachable', reason: unreadable(this.url, 'its whoami answer names no user'), retryAfter: null };
      const access = me.auth.accessToken as { displayName?: string; role?: string; fineGrained?: FineGrained } | undefined;
      const role = toRole(access?.role);
      return { kind: 'ok', username: me.name, tokenName: access?.displayName ?? null, role, canWrite: canWrite(role, access?.fineGrained) };
    } catch (err) {
      if (err instanceof HubApiError) {
        const answer = last ? readHeaders(last as Response) : null;
        const reason = hubReason(err.data, answer) ?? `the Hub answered ${err.statusCode}`;
        if (err.statusCode === 401 || err.statusCode === 403) return { kind: 'rejected', reason };
        if (err.statusCode === 429) return rateLimited(this.url, answer?.retryAfter ?? null);
        return { kind: 'unreachable', reason: `The Hugging Face Hub at ${this.url} answered ${err.statusCode} (${reason}).`, retryAfter: null };
      }
      if (err instanceof TypeError && /must start with 'hf_'/.test(err.message)) return { kind: 'rejected', reason: 'the token does not start with "hf_"' };
      // JSON.parse quotes the text it could not read, and that text may echo the token.
      if (err instanceof SyntaxError) return { kind: 'unreachable', reason: unreadable(this.url, 'its whoami answer is not valid JSON'), retryAfter: null };
      return { kind: 'unreachable', reason: unreachableReason(this.url, err), retryAfter: null };
    }
  }

  /**
   * Model info says whether a repo is gated; the auth check says whether
   * this token may download it. A HEAD on a file under /resolve/ stands in
   * where a Hub (a mirror) has no auth-check route.
   */
  async checkModel(model: string, token: string | null): Promise<ModelCheck> {
    const url = `${this.url}/${model}`;
    const result = (access: ModelCheck['access'], gated: ModelCheck['gated'], message: string): ModelCheck => ({ model, access, gated, url, message });
    const path = model.split('/').map(encodeURIComponent).join('/');

    const info = await this.ask('GET', `/api/models/${path}`, token);
    if ('unreachable' in info) return result('unreachable', null, info.unreachable);
    if (info.status !== 200) return this.refusal(info, model, url, token, null) ?? result('unreachable', null, `The Hub answered ${info.status} for ${model}; try again later.`);

    const body = info.body as { gated?: unknown; private?: unknown } | null;
    // Only an answer that says the model is not gated grants access without asking; one we cannot read is no grant.
    if (body === null || typeof body !== 'object' || Array.isArray(body) || (body.gated !== false && body.gated !== 'auto' && body.gated !== 'manual')) {
      return result('unreachable', null, unreadable(this.url, `its model info for ${model} does not say whether the model is gated`));
    }
    const gated = body.gated;
    if (gated === false) {
      return result('granted', false, body?.private === true ? `This workstation's token can download the private model ${model}.` : `${model} is open: it can be downloaded without accepting a license.`);
    }

    let check = await this.ask('GET', `/api/models/${path}/auth-check`, token);
    if (!('unreachable' in check) && check.status === 404 && check.errorCode === null) {
      check = await this.ask('HEAD', `/${path}/resolve/main/config.json`, token);
    }
    if ('unreachable' in check) return result('unreachable', gated, check.unreachable);
    // A redirect to the file's CDN, or "no such file" from an accessible repo, both mean access.
    const granted = check.status < 400 || check.errorCode === 'EntryNotFound';
    if (granted) return result('granted', gated, `The license of ${model} has been accepted: this workstation's token can download it.`);
    return this.refusal(check, model, url, token, gated) ?? result('unreachable', gated, `The Hub answered ${check.status} for ${model}; try again later.`);
  }

  /** The meaning of a refusal, keyed on the status and X-Error-Code; null for answers it does not know. */
  private refusal(answer: HubAnswer, model: string, url: string, token: string | null, gated: ModelCheck['gated']): ModelCheck | null {
    const result = (access: ModelCheck['access'], message: string): ModelCheck => ({ model, access, gated, url, message });
    const reason = hubReason(answer.body, answer);
    if (answer.status === 429) return result('unreachable', rateLimited(this.url, answer.retryAfter).reason);
    if (answer.status >= 500) return result('unreachable', `The Hugging Face Hub answered ${answer.status}; try again later.`);
    if (answer.errorCode === 'GatedRepo') {
      if (!token || answer.status === 401) {
        return result('unauthorized', `${model} is gated: save a Hugging Face read token for this workstation, then accept the license at ${url} if you have not yet.`);
      }
      const pending = /awaiting a review/i.test(reason ?? '');
      return result(
        'gated',
        pending
          ? `Your request to access ${model} is awaiting a review from its authors. Check again once they have granted it (${url}).`
          : `Access to ${model} needs its license accepted on Hugging Face: open ${url}, accept it, then check again. Halo Forge never accepts a license for you.`,
      );
    }
    if (answer.errorCode === 'RepoNotFound' || answer.status === 404) {
      return result(
        'not_found',
        token
          ? `The Hub has no model ${model}, or it is private and this workstation's token cannot see it.`
          : `The Hub has no public model ${model}; if it is private, save a Hugging Face token that can read it.`,
      );
    }
    if (answer.status === 401 || answer.status === 403) {
      return result(
        'unauthorized',
        token ? `The Hub refused this workstation's Hugging Face token${reason ? ` (${reason})` : ''}; save a new one.` : `The Hub wants a Hugging Face token for ${model}; save one for this workstation.`,
      );
    }
    return null;
  }

  private async ask(method: 'GET' | 'HEAD', path: string, token: string | null): Promise<Reply> {
    let response: Response;
    try {
      response = await this.fetch(`${this.url}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    } catch (err) {
      return { unreachable: unreachableReason(this.url, err) };
    }
    const answer = readHeaders(response);
    if (method === 'HEAD') {
      await response.body?.cancel();
      return answer;
    }
    const type = response.headers.get('content-type') ?? '';
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      return { unreachable: unreachableReason(this.url, err) };
    }
    try {
      answer.body = type.includes('json') ? JSON.parse(text) : null;
    } catch {
      answer.body = null;
    }
    // An error answer is read from its status and X-Error-Code; a success has to be read from its body.
    if (answer.status < 300 && (answer.body === null || typeof answer.body !== 'object')) {
      return { unreachable: unreadable(this.url, `it answered ${answer.status} with ${type.includes('json') ? 'malformed JSON' : `no JSON (${type.split(';')[0] || 'no content type'})`}`) };
    }
    return answer;
  }
}

interface FineGrained {
  scoped?: { permissions?: string[] }[];
  global?: string[];
}

function toRole(role: string | undefined): HfRole {
  if (role === 'read' || role === 'write' || role === 'admin' || role === 'fineGrained') return role;
  if (role === 'contributor') return 'write';
  return null;
}

function canWrite(role: HfRole, fineGrained: FineGrained | undefined): boolean {
  if (role === 'write' || role === 'admin') return true;
  if (role !== 'fineGrained' || !fineGrained) return false;
  const permissions = [...(fineGrained.global ?? []), ...(fineGrained.scoped ?? []).flatMap((s) => s.permissions ?? [])];
  return permissions.some((p) => p.startsWith('repo') && p.endsWith('write'));
}

function readHeaders(response: Response): HubAnswer {
  const retry = Number(response.headers.get('retry-after'));
  return {
    status: response.status,
    errorCode: response.headers.get('x-error-code'),
    errorMessage: response.headers.get('x-error-message'),
    retryAfter: Number.isFinite(retry) && retry > 0 ? Math.ceil(retry) : null,
    body: null,
  };
}

const MAX_REASON = 160;
/** A run this long of token-ish characters is a token, a hash or an encoded blob, not words a person reads. */
const OPAQUE_RUN = /[A-Za-z0-9_+/=%-]{24,}/g;

/**
 * The Hub's reason for a refusal, fit to show to anyone who can read the
 * status: the Hub's error text is not ours and may echo the token in any
 * form (upper-cased, base64), so it is masked, stripped of long opaque runs
 * and control characters, and cut short. Without a readable text, the
 * X-Error-Code stands in.
 */
export function hubReason(body: unknown, answer: { errorCode: string | null; errorMessage: string | null } | null): string | null {
  const error = (body as { error?: unknown } | null | undefined)?.error;
  const raw = typeof error === 'string' && error.trim() ? error : answer?.errorMessage;
  const text = raw
    ? redactSecrets(raw)
        .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
        .replace(OPAQUE_RUN, '[…]')
        .replace(/\s+/g, ' ')
        .trim()
    : '';
  if (text) return (text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text).replace(/\.$/, '');
  const code = answer?.errorCode;
  return code && /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(code) ? code : null;
}

function unreadable(url: string, what: string): string {
  return `The Hugging Face Hub at ${url} gave an answer Halo Forge cannot read (${what}); it may not be a Hugging Face Hub or mirror. Check HF_ENDPOINT, or try again later.`;
}

function rateLimited(url: string, retryAfter: number | null): { kind: 'unreachable'; reason: string; retryAfter: number | null } {
  const when = retryAfter ? `try again in ${retryAfter} s` : 'try again later';
  return { kind: 'unreachable', reason: `The Hugging Face Hub at ${url} is rate-limiting this workstation; ${when}.`, retryAfter };
}

const NETWORK_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name lookup failed',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
};

function unreachableReason(url: string, err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `The Hugging Face Hub at ${url} did not answer in time.`;
  const code = e?.cause?.code;
  const detail = (code && NETWORK_FAILURES[code]) ?? code ?? e?.cause?.message ?? e?.message ?? String(err);
  return `The Hugging Face Hub at ${url} could not be reached (${detail}).`;
}
