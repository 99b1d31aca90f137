// What a person may type or paste as a model: `org/name`, or a model page URL
// (`https://huggingface.co/org/name[/tree/rev/...]`, also the HF_ENDPOINT
// origin). Decided with no Hub call, and a pasted token is refused before
// anything could send it anywhere.
import { httpError } from '../errors.js';
import { modelIdProblem } from '../secrets/hub-client.js';

export interface RepoRef {
  /** `org/name` (or a legacy single-segment name). */
  repo: string;
  /** A revision named in a pasted `/tree/{rev}` or `/blob/{rev}` URL. */
  revision: string | null;
}

const SECRET_PREFIXES = /(^|[^A-Za-z0-9])(hf_|hfk_|api_org_)[A-Za-z0-9_-]{8,}/;

/** True for text shaped like a Hugging Face or Halo Forge secret, anywhere in it. */
export function looksLikeSecret(text: string): boolean {
  return SECRET_PREFIXES.test(text.trim());
}

const HUB_HOSTS = new Set(['huggingface.co', 'www.huggingface.co', 'hf.co']);

/** Parses `input`; throws `model.looks_like_token` or `model.invalid_id` with a message that never repeats a secret. */
export function parseRepoRef(input: string, hubUrl: string): RepoRef {
  const text = input.trim();
  if (looksLikeSecret(text)) {
    throw httpError(400, 'model.looks_like_token', 'That looks like a Hugging Face token, not a model name; it was not sent anywhere. Enter a model as org/name, e.g. meta-llama/Llama-3.1-8B.');
  }
  const ref = /^https?:\/\//i.test(text) ? fromUrl(text, hubUrl) : { repo: text, revision: null };
  const problem = modelIdProblem(ref.repo);
  if (problem) throw httpError(400, 'model.invalid_id', problem);
  return ref;
}

function fromUrl(text: string, hubUrl: string): RepoRef {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw httpError(400, 'model.invalid_id', `"${text.slice(0, 100)}" is not a URL or a model id; use org/name or a https://huggingface.co/org/name link.`);
  }
  const hub = new URL(hubUrl);
  const base = hub.pathname.replace(/\/+$/, '');
  const onHub = HUB_HOSTS.has(url.hostname.toLowerCase()) || (url.origin === hub.origin && url.pathname.startsWith(`${base}/`));
  if (!onHub) {
    throw httpError(400, 'model.invalid_id', `${url.origin} is not the Hugging Face Hub (${hub.origin}); paste a model page link such as https://huggingface.co/org/name.`);
  }
  const path = url.origin === hub.origin ? url.pathname.slice(base.length) : url.pathname;
  const parts = path.split('/').filter(Boolean).map(safeDecode);
  if (parts[0] === 'models') parts.shift();
  if (parts[0] === 'datasets' || parts[0] === 'spaces') {
    throw httpError(400, 'model.invalid_id', `That link is to a ${parts[0].slice(0, -1)}, not a model; Models pulls models.`);
  }
  const [org, name, view, revision] = parts;
  if (!org || !name) throw httpError(400, 'model.invalid_id', 'That link names no model; a model page looks like https://huggingface.co/org/name.');
  const withRevision = (view === 'tree' || view === 'blob' || view === 'resolve') && revision ? revision : null;
  return { repo: `${org}/${name}`, revision: withRevision };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$/;

/** A branch, tag or commit name the Hub could know; refuses what could escape `refs/` or a URL path. */
export function revisionProblem(revision: string): string | null {
  if (looksLikeSecret(revision)) return 'That revision looks like a token; it was not sent anywhere.';
  const ok = REVISION.test(revision) && !revision.split('/').some((s) => s === '' || s === '.' || s === '..') && !revision.endsWith('.lock');
  return ok ? null : `"${revision.slice(0, 100)}" is not a branch, tag or commit name.`;
}

export const COMMIT_HASH = /^[0-9a-f]{40}$/;
