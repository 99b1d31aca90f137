// The only file that knows keytar. To use another keyring library, replace
// this file: it has to return a KeyringBackend or throw why it cannot.
import { createRequire } from 'node:module';
import { disabledKeyring, guardedKeyring, type GuardOptions, type Keyring, type KeyringBackend } from './keyring.js';

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

/**
 * keytar is a native, optional dependency: it may be missing, or built for
 * another Node ABI (Electron). Loaded on first use so a backend without it
 * starts just the same.
 */
export function loadKeytar(requireModule: (id: string) => unknown = createRequire(import.meta.url)): KeyringBackend {
  let keytar: Keytar;
  try {
    keytar = requireModule('keytar') as Keytar;
  } catch (err) {
    const detail = (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' ? 'it is not installed' : (err as Error).message.split('\n')[0];
    throw new Error(`The keyring library (keytar) could not be loaded: ${detail}.`);
  }
  return {
    get: (service, account) => keytar.getPassword(service, account),
    set: (service, account, value) => keytar.setPassword(service, account, value),
    delete: (service, account) => keytar.deletePassword(service, account),
  };
}

/**
 * The workstation's keyring. `HALOFORGE_KEYRING=off` turns it off (headless
 * hosts, tests); `HALOFORGE_KEYRING_SERVICE` names another keyring service, so
 * a test or a second install never touches the real entry.
 */
export function openKeyring(env: NodeJS.ProcessEnv, options: GuardOptions & { load?: () => KeyringBackend } = {}): Keyring {
  if (env.HALOFORGE_KEYRING === 'off') return disabledKeyring('Turned off by HALOFORGE_KEYRING=off.');
  return guardedKeyring(options.load ?? (() => loadKeytar()), { service: env.HALOFORGE_KEYRING_SERVICE || undefined, ...options });
}
