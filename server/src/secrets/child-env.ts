import { registerSecret } from './redact.js';

/** Secrets of the workstation itself that no child (serving, training) may inherit. */
const WITHHELD = ['HALOFORGE_API_TOKEN', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'] as const;

/**
 * The environment for a process the workstation launches: the parent's,
 * without the workstation's own secrets, plus HF_TOKEN from the resolved
 * source. The token is registered for redaction, so a child that echoes it
 * has it masked in every log line that passes through redactSecrets.
 */
export function buildChildEnv(base: NodeJS.ProcessEnv, hfToken: string | null): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of WITHHELD) delete env[name];
  if (hfToken) {
    registerSecret(hfToken);
    env.HF_TOKEN = hfToken;
  }
  return env;
}
