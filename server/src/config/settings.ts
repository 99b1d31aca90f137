import { readPrivateText, writePrivateFileAtomic } from '../fs/private-file.js';
import { withFileLock } from '../fs/file-lock.js';
import { storageError } from '../fs/storage-error.js';
import { dirname } from 'node:path';

export interface RemoteAccessSetting {
  enabled: boolean;
  /** "all" or one interface address. */
  interface: string;
  /** null: the same port as the loopback listener. */
  port: number | null;
}

export interface Settings {
  remoteAccess: RemoteAccessSetting;
}

export const DEFAULT_SETTINGS: Settings = { remoteAccess: { enabled: false, interface: 'all', port: null } };

export class SettingsCorruptError extends Error {
  constructor(path: string, problem: string) {
    super(`The settings file ${path} cannot be read: ${problem}. It was left untouched; fix or move it, then start again.`);
    this.name = 'SettingsCorruptError';
  }
}

/** config.json under HALOFORGE_HOME: choices that outlive a launch, such as remote access. */
export class SettingsFile {
  /** What had to be tightened when the file was read (a config.json others could read). */
  readonly warnings: string[] = [];

  constructor(readonly path: string) {}

  /** Never through a symbolic link (SymlinkRefusedError); a file or folder others could read is made private. */
  read(): Settings {
    const read = readPrivateText(this.path);
    if (read === null) return structuredClone(DEFAULT_SETTINGS);
    this.warnings.push(...read.warnings);
    const text = read.text;
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new SettingsCorruptError(this.path, `it is not valid JSON (${(err as Error).message})`);
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) throw new SettingsCorruptError(this.path, 'expected a JSON object');
    const remote = (data as Partial<Settings>).remoteAccess ?? DEFAULT_SETTINGS.remoteAccess;
    if (typeof remote !== 'object' || typeof remote.enabled !== 'boolean') throw new SettingsCorruptError(this.path, '"remoteAccess.enabled" must be true or false');
    const port = remote.port ?? null;
    if (port !== null && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new SettingsCorruptError(this.path, '"remoteAccess.port" must be a port number or null');
    return { ...(data as object), remoteAccess: { enabled: remote.enabled, interface: typeof remote.interface === 'string' ? remote.interface : 'all', port } } as Settings;
  }

  async update(change: (current: Settings) => Settings): Promise<Settings> {
    try {
      return await withFileLock(this.path, () => {
        const next = change(this.read());
        writePrivateFileAtomic(this.path, `${JSON.stringify(next, null, 2)}\n`);
        return next;
      });
    } catch (err) {
      throw storageError(err, `the settings file ${this.path}`, dirname(this.path));
    }
  }
}
