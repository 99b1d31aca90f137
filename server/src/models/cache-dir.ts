// The Hugging Face hub cache folder, resolved exactly as huggingface_hub's
// constants.py does, so every tool on the machine shares one copy of a model:
// HF_HUB_CACHE › HUGGINGFACE_HUB_CACHE › $HF_HOME/hub ›
// $XDG_CACHE_HOME/huggingface/hub › ~/.cache/huggingface/hub.
// Python expands `~` and `$VARS` in each of these; so do we.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function resolveHubCache(env: NodeJS.ProcessEnv, home: string = homedir()): string {
  const expand = (value: string) => expandVars(expandUser(value, home), env);
  const set = (name: string) => (env[name] ? env[name] : null);
  const hubCache = set('HF_HUB_CACHE') ?? set('HUGGINGFACE_HUB_CACHE');
  if (hubCache) return expand(hubCache);
  const hfHome = set('HF_HOME') ?? join(set('XDG_CACHE_HOME') ?? '~/.cache', 'huggingface');
  return join(expand(hfHome), 'hub');
}

function expandUser(value: string, home: string): string {
  return value === '~' || value.startsWith('~/') ? home + value.slice(1) : value;
}

/** os.path.expandvars: `$NAME` and `${NAME}` for variables that are set; others are left as written. */
function expandVars(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$(\w+)|\$\{([^}]*)\}/g, (whole, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? whole);
}
