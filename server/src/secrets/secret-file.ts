import { rmSync } from 'node:fs';
import { readTextIfExists, removeLeftoverTemps, tightenFileMode, writePrivateFileAtomic } from '../fs/private-file.js';

/**
 * One secret in a file of its own: 0600 from the moment it exists, in a 0700
 * directory, replaced atomically. For hosts without a keyring.
 */
export class SecretFile {
  constructor(readonly path: string) {}

  /** The secret, or null; a file others could read is tightened first and the warning returned. */
  read(): { value: string; warning: string | null } | null {
    const text = readTextIfExists(this.path);
    if (text === null) return null;
    const warning = tightenFileMode(this.path);
    const value = text.trim();
    return value ? { value, warning } : null;
  }

  write(value: string): void {
    writePrivateFileAtomic(this.path, `${value}\n`);
  }

  /** True when there was a file to remove. A copy that a write killed midway left in a temp file goes too. */
  remove(): boolean {
    removeLeftoverTemps(this.path);
    if (readTextIfExists(this.path) === null) return false;
    rmSync(this.path, { force: true });
    return true;
  }
}
