import { readPrivateText, removeLeftoverTemps, removeStateFile, writePrivateFileAtomic } from '../fs/private-file.js';

/**
 * One secret in a file of its own: 0600 from the moment it exists, in a 0700
 * directory, replaced atomically. For hosts without a keyring. Never read
 * through a symbolic link: a linked file's content would be sent to the Hub
 * as a bearer token.
 */
export class SecretFile {
  constructor(readonly path: string) {}

  /** The secret, or null; a file or folder others could reach is tightened first and the warnings returned. */
  read(): { value: string; warnings: string[] } | null {
    const read = readPrivateText(this.path);
    if (read === null) return null;
    const value = read.text.trim();
    return value ? { value, warnings: read.warnings } : null;
  }

  write(value: string): void {
    writePrivateFileAtomic(this.path, `${value}\n`);
  }

  /** True when there was a file to remove. A copy that a write killed midway left in a temp file goes too. */
  remove(): boolean {
    removeLeftoverTemps(this.path);
    return removeStateFile(this.path);
  }
}
