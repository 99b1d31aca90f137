import type { HfAccess } from '../secrets/hf-access.js';

/**
 * What the Hub says about a repo this workstation has not pulled, for the
 * access-missing actions: gated, private (or no such model), or granted.
 * Never waits long: a slow Hub must not hold up the answer to a /v1 request.
 */
export async function hubAccessOf(hf: HfAccess, repo: string, timeoutMs = 3_000): Promise<'granted' | 'gated' | 'private' | 'unknown'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'unknown'>((resolve) => (timer = setTimeout(() => resolve('unknown'), timeoutMs)));
  try {
    const check = hf.checkModel(repo).then((c) => (c.access === 'granted' ? 'granted' : c.access === 'gated' ? 'gated' : c.access === 'not_found' || c.access === 'unauthorized' ? 'private' : 'unknown'));
    return await Promise.race([check, late]);
  } catch {
    return 'unknown';
  } finally {
    clearTimeout(timer);
  }
}
