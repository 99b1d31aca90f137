// The last line of defence for everything the workstation logs or records:
// a token value that slipped into a message (from us, from a library's error,
// or echoed by a child process) is masked before it is written.

const TOKEN_PATTERNS = [
  /hfk_[A-Za-z0-9_-]{8,}/g,
  /\bhf_[A-Za-z0-9]{8,}/g,
  /\bapi_org_[A-Za-z0-9]{8,}/g,
];

const known = new Set<string>();
/** Every log line is checked against each known secret: keep the list short, newest last. */
const MAX_KNOWN = 64;

/** Registers a secret value (e.g. the resolved HF token) so it is masked even if it has an unusual shape. */
export function registerSecret(value: string | null | undefined): void {
  if (!value || value.length < 8) return;
  known.delete(value);
  known.add(value);
  if (known.size > MAX_KNOWN) known.delete(known.values().next().value!);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of known) if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
  for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, (m) => `${m.slice(0, m.indexOf('_') + 1)}[REDACTED]`);
  return out;
}
