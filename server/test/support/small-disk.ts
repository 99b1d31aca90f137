// A small tmpfs mounted as a Halo Forge home, which a test can fill up or
// remount read-only: the real kernel refusals (ENOSPC, EROFS), not mocks.
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PAGE = 4096;

/** Why a tmpfs cannot be mounted here, or null when it can. */
export function mountUnavailable(): string | null {
  if (process.platform !== 'linux') return `this test mounts a Linux tmpfs; platform is ${process.platform}`;
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  let disk: SmallDisk | null = null;
  try {
    disk = new SmallDisk(64 * 1024);
    disk.readOnly(true);
    return null;
  } catch (err) {
    return `mount failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  } finally {
    disk?.unmount();
  }
}

export class SmallDisk {
  readonly dir: string;
  private readonly filler: string;
  private mounted = false;

  constructor(bytes: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'halo-forge-disk-'));
    this.filler = join(this.dir, '.filler');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0700`, 'tmpfs', this.dir], { stdio: 'pipe' });
      this.mounted = true;
    } catch (err) {
      rmSync(this.dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Bytes a file may still grow by. */
  free(): number {
    const s = statfsSync(this.dir);
    return s.bavail * s.bsize;
  }

  /** Writes a filler file until the kernel answers ENOSPC: not a byte is left. */
  fill(): void {
    const fd = openSync(this.filler, 'a', 0o600);
    try {
      for (const chunk of [Buffer.alloc(64 * 1024, 1), Buffer.alloc(PAGE, 1), Buffer.alloc(1, 1)]) {
        try {
          for (;;) writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /** After fill(): frees exactly `pages` pages by shortening the filler. */
  leaveFree(pages: number): void {
    this.fill();
    const size = statSync(this.filler).size;
    const fd = openSync(this.filler, 'r+');
    try {
      ftruncateSync(fd, Math.max(0, Math.floor(size / PAGE) * PAGE - pages * PAGE));
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the filler: the disk has room again. */
  empty(): void {
    rmSync(this.filler, { force: true });
  }

  readOnly(on: boolean): void {
    execFileSync('mount', ['-o', `remount,${on ? 'ro' : 'rw'}`, this.dir], { stdio: 'pipe' });
  }

  /** Unmounts (lazily when something still holds it) and removes the mount point. Safe to call twice. */
  unmount(): void {
    if (this.mounted) {
      try {
        execFileSync('umount', [this.dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', this.dir], { stdio: 'pipe' });
      }
      this.mounted = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
