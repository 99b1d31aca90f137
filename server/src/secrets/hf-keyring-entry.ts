// The Hugging Face token's entry in the OS keyring. The keyring wins over the
// secret file, so when a clear or a save has to go on without the keyring (it
// hung or failed), the token left in it would come back as soon as it answers
// again: a cleared token restored, a rotated (perhaps leaked) one silently
// un-rotated. Such a clear or save leaves a mark next to the secret file
// instead (0600, no secret in it): while the mark stands the entry is
// ignored, and the next time the keyring answers the entry is deleted, then
// the mark.
//
// Only a token that really was in the keyring can be stale. A headless box
// never had a keyring; marking its (empty) entry stale would warn on every
// command forever. So a second file, the held note (no secret in it either),
// records that the keyring holds a token of ours: written when a save reaches
// the keyring or a read finds a token there, removed when the keyring says
// the entry is gone. A clear that cannot reach the keyring marks the entry
// stale only while that note stands.
import { lstatSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditLog } from '../audit/audit-log.js';
import { httpError } from '../errors.js';
import { removeStateFile, writePrivateFileAtomic } from '../fs/private-file.js';
import { storageProblem } from '../fs/storage-error.js';
import { HF_KEYRING_ACCOUNT } from './hf-credential.js';
import { KeyringAbsentError, KeyringTimeoutError, KeyringUnavailableError, type Keyring, type KeyringState } from './keyring.js';

const HELD_NOTE = 'The system keyring holds a Hugging Face token saved by Halo Forge (the token is not in this file).\n';

const MARK_NOTE =
  'The Hugging Face token in the OS keyring is older than the last clear or save, which could not reach the keyring. Halo Forge ignores it, and deletes it and then this file once the keyring answers.\n';

export class HfKeyringEntry {
  // Changes to the entry and its mark take turns, so a status read cannot delete a token a save has just put there.
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly keyring: Keyring,
    readonly markPath: string,
    private readonly audit: AuditLog | null,
    readonly heldPath: string = `${markPath.replace(/\.keyring-stale$/, '')}.in-keyring`,
  ) {}

  state(): KeyringState {
    return this.keyring.state();
  }

  /** The token in the keyring, or null; `stale` when the entry is marked stale and the keyring could not delete it yet. */
  async read(): Promise<{ token: string | null; stale: boolean }> {
    if (this.isMarked()) {
      const left = await this.inTurn(() => this.dropStale());
      // A keyring turned off is never read: what it holds cannot come back, so there is nothing to warn about.
      if (left !== 'none') return { token: null, stale: left === 'stale' };
    }
    let token: string | null;
    try {
      token = (await this.keyring.get(HF_KEYRING_ACCOUNT)) || null;
    } catch (err) {
      if (!(err instanceof KeyringUnavailableError)) throw err;
      return { token: null, stale: false };
    }
    // Also learns of a token an earlier version saved; the note is a hint, so a disk that refuses it costs nothing here.
    if (token) this.noteHeld();
    else this.forgetHeld();
    return { token, stale: false };
  }

  /** Saves the token in the keyring, which makes the entry current again; false when the keyring could not take it. */
  save(token: string): Promise<boolean> {
    return this.inTurn(async () => {
      try {
        await this.keyring.set(HF_KEYRING_ACCOUNT, token);
      } catch (err) {
        if (!(err instanceof KeyringUnavailableError)) throw err;
        // A call that timed out may still land once the keyring is unlocked; one refused outright (no Secret Service) did not.
        if (err instanceof KeyringTimeoutError) this.noteHeld();
        return false;
      }
      rmSync(this.markPath, { force: true });
      this.noteHeld();
      return true;
    });
  }

  /**
   * Deletes the entry. When there is a keyring but it could not be asked,
   * marks the entry stale instead (`deferred`): it must never win over what
   * the user just did.
   */
  remove(): Promise<{ removed: boolean; deferred: boolean }> {
    return this.inTurn(async () => {
      try {
        const removed = await this.keyring.delete(HF_KEYRING_ACCOUNT);
        rmSync(this.markPath, { force: true });
        this.forgetHeld();
        return { removed, deferred: false };
      } catch (err) {
        if (!(err instanceof KeyringUnavailableError)) throw err;
        if (err instanceof KeyringAbsentError) return { removed: false, deferred: false };
      }
      // Nothing of ours is in the keyring (a headless box that never had one): nothing can come back.
      if (!this.isHeld()) return { removed: false, deferred: false };
      try {
        if (!this.isMarked()) writePrivateFileAtomic(this.markPath, MARK_NOTE);
      } catch (err) {
        const disk = storageProblem(err, dirname(this.markPath));
        const why = disk ? `because ${disk.problem}; ${disk.remedy}` : `(${(err as Error).message})`;
        throw httpError(
          disk?.statusCode ?? 500,
          disk?.code ?? 'hf.storage_failed',
          `The keyring did not answer, so the token saved there could not be removed, and writing ${this.markPath} to have it ignored failed ${why}.`,
        );
      }
      return { removed: false, deferred: true };
    });
  }

  /** 'none' once no stale entry is left in the keyring; 'off' when there is no keyring to ask (the mark stays for when there is). */
  private async dropStale(): Promise<'none' | 'stale' | 'off'> {
    // A save may have reached the keyring while this waited its turn: its entry is current.
    if (!this.isMarked()) return 'none';
    try {
      if (await this.keyring.delete(HF_KEYRING_ACCOUNT)) {
        this.audit?.append({ event: 'hf.cleared', detail: 'Hugging Face token left in the keyring by an earlier clear or save deleted, now that the keyring answers' });
      }
    } catch (err) {
      if (err instanceof KeyringAbsentError) return 'off';
      if (!(err instanceof KeyringUnavailableError)) throw err;
      return 'stale';
    }
    rmSync(this.markPath, { force: true });
    this.forgetHeld();
    return 'none';
  }

  /** Halo Forge saved a token in the keyring and has not seen it gone since. */
  mayHold(): boolean {
    return this.isHeld();
  }

  private isHeld(): boolean {
    try {
      lstatSync(this.heldPath);
      return true;
    } catch (err) {
      // Failing closed, as for the mark: a note that cannot be checked may be there.
      return (err as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }

  private noteHeld(): void {
    if (this.isHeld()) return;
    try {
      writePrivateFileAtomic(this.heldPath, HELD_NOTE);
    } catch {
      // Only a hint: without it, a clear that cannot reach the keyring does not mark the entry stale.
    }
  }

  private forgetHeld(): void {
    try {
      removeStateFile(this.heldPath);
    } catch {
      // A note left behind only makes a later unreachable clear cautious.
    }
  }

  private isMarked(): boolean {
    try {
      lstatSync(this.markPath);
      return true;
    } catch (err) {
      // Failing closed: a mark that cannot be checked still keeps a replaced token from coming back.
      return (err as NodeJS.ErrnoException).code !== 'ENOENT';
    }
  }

  private inTurn<T>(change: () => Promise<T>): Promise<T> {
    const turn = this.turn.then(change);
    this.turn = turn.catch(() => undefined);
    return turn;
  }
}
