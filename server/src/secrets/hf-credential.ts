// Where the Hugging Face token comes from. The decision (which source wins)
// is a pure function of what each source holds, so a test can table it; the
// reading is kept apart in HfAccess.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { HfSource } from '../../../shared/api.js';
import { secretsDir } from '../paths.js';

export const HF_KEYRING_ACCOUNT = 'huggingface-token';
export const HF_ENV_VARIABLES = ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'] as const;
export type HfEnvVariable = (typeof HF_ENV_VARIABLES)[number];

export interface HfCredentialSources {
  env: { token: string; variable: HfEnvVariable } | null;
  keyring: string | null;
  file: string | null;
  /** The token the Hugging Face tools saved: used, never written. */
  hfCache: string | null;
}

export interface HfCredential {
  token: string;
  source: Exclude<HfSource, 'none'>;
}

/** First hit wins: environment, keyring, halo-forge's file, the Hugging Face tools' file. */
export function resolveHfCredential(sources: HfCredentialSources): HfCredential | null {
  if (sources.env) return { token: sources.env.token, source: 'env' };
  if (sources.keyring) return { token: sources.keyring, source: 'keyring' };
  if (sources.file) return { token: sources.file, source: 'file' };
  if (sources.hfCache) return { token: sources.hfCache, source: 'hf-cache' };
  return null;
}

/** HF_TOKEN, else the legacy HUGGING_FACE_HUB_TOKEN; blank counts as unset. */
export function envHfToken(env: NodeJS.ProcessEnv): HfCredentialSources['env'] {
  for (const variable of HF_ENV_VARIABLES) {
    const token = env[variable]?.trim();
    if (token) return { token, variable };
  }
  return null;
}

export function hfSecretFilePath(env: NodeJS.ProcessEnv): string {
  return join(secretsDir(env), 'huggingface_token');
}

/** The mark that the keyring's entry is older than the last clear or save: see hf-keyring-entry.ts. */
export function hfStaleKeyringMarkPath(env: NodeJS.ProcessEnv): string {
  return join(secretsDir(env), 'huggingface_token.keyring-stale');
}

/** Where the Hugging Face tools (`hf auth login`, huggingface_hub) keep their token. */
export function hfCacheTokenPath(env: NodeJS.ProcessEnv): string {
  if (env.HF_TOKEN_PATH) return env.HF_TOKEN_PATH;
  if (env.HF_HOME) return join(env.HF_HOME, 'token');
  const cache = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(cache, 'huggingface', 'token');
}

const TOKEN_SHAPE = /^hf_[A-Za-z0-9]+$/;
const MIN_LENGTH = 30;
const MAX_LENGTH = 200;

/**
 * Null when `token` looks like a Hugging Face token, else why not. The
 * message never quotes the value: it is read by people and written to logs.
 */
export function hfTokenShapeProblem(token: string): string | null {
  if (token.startsWith('hfk_')) {
    return 'This is a Halo Forge API token (hfk_...), not a Hugging Face token (hf_...). Create a read token at https://huggingface.co/settings/tokens.';
  }
  if (!token.startsWith('hf_')) return 'This is not a Hugging Face token: those start with "hf_". Create a read token at https://huggingface.co/settings/tokens.';
  if (!TOKEN_SHAPE.test(token)) return 'A Hugging Face token has only letters and digits after "hf_"; check that it was copied whole, without spaces or quotes.';
  const body = token.length - 3;
  if (body < MIN_LENGTH) return `This token is too short (${body} characters after "hf_"); check that it was copied whole.`;
  if (body > MAX_LENGTH) return `This token is too long (${body} characters after "hf_"); check that only the token was pasted.`;
  return null;
}
