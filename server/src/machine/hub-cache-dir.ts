// Until the Models service is part of this server, the disk shown is the one
// the Hugging Face cache would use, resolved as huggingface_hub does:
// HF_HUB_CACHE › HUGGINGFACE_HUB_CACHE › $HF_HOME/hub › $XDG_CACHE_HOME/huggingface/hub › ~/.cache/huggingface/hub.
import { homedir } from 'node:os';
import { join } from 'node:path';

export function hubCacheDir(env: NodeJS.ProcessEnv, home: string = homedir()): string {
  const expand = (value: string) => (value === '~' || value.startsWith('~/') ? home + value.slice(1) : value);
  const hub = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (hub) return expand(hub);
  return join(expand(env.HF_HOME || join(env.XDG_CACHE_HOME || '~/.cache', 'huggingface')), 'hub');
}
