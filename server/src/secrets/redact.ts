// The last line of defence for everything the workstation logs or records:
// a token value that slipped into a message (from us, from a library's error,
// or echoed by a child process or a Hub) is masked before it is written.

const TOKEN_PATTERNS = [
  /hfk_[A-Za-z0-9_-]{8,}/g,
  /\bhf_[A-Za-z0-9]{8,}/g,
  /\bapi_org_[A-Za-z0-9]{8,}/g,
];

/** What a token pasted into the wrong field looks like, in any case: `hf_`, `hfk_` or `api_org_` and a run of token characters. */
const SECRET_SHAPE = /(?:^|[^A-Za-z0-9])(?:hf_[A-Za-z0-9]{8,}|hfk_[A-Za-z0-9_-]{8,}|api_org_[A-Za-z0-9]{8,})/i;

/** True when `value` holds something shaped like a token; such a value must never be sent anywhere (a URL, a Hub request) or quoted. */
export function looksLikeSecret(value: string): boolean {
  return SECRET_SHAPE.test(value) || SECRET_SHAPE.test(percentDecoded(value));
}

interface Known {
  /** The value itself, in any case: a Hub that echoes it upper-cased still echoes it. */
  anyCase: RegExp;
  /** Its base64 and base64url forms, at each of the three alignments it can have inside a longer encoded text. */
  encoded: string[];
}

const known = new Map<string, Known>();
/** Every log line is checked against each known secret: keep the list short, newest last. */
const MAX_KNOWN = 64;
/** Shorter encoded runs are left alone: a few characters of a token reveal nothing, and could match ordinary text. */
const MIN_ENCODED = 12;

/**
 * Registers a secret value (e.g. the resolved HF token) so it is masked even
 * if it has an unusual shape, or comes back upper-cased, base64-encoded or
 * percent-encoded. Register a secret before the first request that carries it.
 */
export function registerSecret(value: string | null | undefined): void {
  if (!value || value.length < 8) return;
  known.delete(value);
  known.set(value, { anyCase: new RegExp(escapeRegExp(value), 'gi'), encoded: encodedForms(value) });
  if (known.size > MAX_KNOWN) known.delete(known.keys().next().value!);
}

export function redactSecrets(text: string): string {
  return redactPlain(redactPercentEncoded(text));
}

function redactPlain(text: string): string {
  let out = text;
  for (const { anyCase, encoded } of known.values()) {
    out = out.replace(anyCase, '[REDACTED]');
    for (const form of encoded) if (out.includes(form)) out = out.split(form).join('[REDACTED]');
  }
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, (m) => `${m.slice(0, m.indexOf('_') + 1)}[REDACTED]`);
  return out;
}

/** A run of URL characters (`/api/public/x/hfk%5FAbc...`); one pass over the text, whatever its length. */
const URL_RUN = /[A-Za-z0-9_.~!$&'()*+,;=:@/%-]+/g;

/** Each percent-encoded run that hides a secret is replaced by its decoded, masked form. */
function redactPercentEncoded(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(URL_RUN, (run) => {
    if (!run.includes('%')) return run;
    const decoded = percentDecoded(run);
    if (decoded === run) return run;
    const masked = redactPlain(decoded);
    return masked === decoded ? run : masked;
  });
}

function percentDecoded(text: string): string {
  // Decoded escape by escape: one malformed sequence must not keep the others hidden.
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  });
}

/**
 * The base64 text that encodes `value` whatever precedes it. Base64 turns
 * three bytes into four characters, so inside a longer encoded text (a Basic
 * credential, a JSON blob) the token's characters depend on where it starts
 * modulo 3: for each alignment, the characters that encode only the token's
 * own bytes.
 */
function encodedForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const forms = new Set<string>();
  for (let lead = 0; lead < 3; lead++) {
    const b64 = Buffer.concat([Buffer.alloc(lead), bytes]).toString('base64');
    const firstGroup = Math.ceil(lead / 3);
    const lastGroup = Math.floor((lead + bytes.length) / 3);
    const core = b64.slice(firstGroup * 4, lastGroup * 4);
    if (core.length < MIN_ENCODED) continue;
    forms.add(core);
    forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...forms];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
