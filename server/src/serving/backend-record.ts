import { join } from 'node:path';
import { readPrivateText, removeStateFile, writePrivateFileAtomic } from '../fs/private-file.js';
import { processAlive } from '../fs/process-alive.js';
import { haloHome } from '../paths.js';

/**
 * backend.json in the Halo Forge home: where the running backend listens, so
 * that `halo-forge models run`, `models stop` and `ps` can ask it. Written
 * (0600) once it listens, removed when it stops; a record left by a backend
 * that was killed names a pid that is gone, and is ignored.
 */

export interface BackendRecord {
  pid: number;
  /** The loopback URL a local CLI uses, e.g. http://127.0.0.1:8000/. */
  url: string;
  port: number;
  startedAt: string;
}

export function backendRecordPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(haloHome(env), 'backend.json');
}

export function writeBackendRecord(env: NodeJS.ProcessEnv, record: BackendRecord): void {
  writePrivateFileAtomic(backendRecordPath(env), `${JSON.stringify(record, null, 2)}\n`);
}

/** Removes the record, if it is this process's (another backend may have started since). */
export function removeBackendRecord(env: NodeJS.ProcessEnv, pid = process.pid): void {
  const path = backendRecordPath(env);
  try {
    const current = readBackendRecord(env, { checkAlive: false });
    if (current === null || current.pid === pid) removeStateFile(path);
  } catch {
    // Unreadable: not ours to judge; the next backend overwrites it.
  }
}

/** The running backend's record; null when there is none, or its process is gone. */
export function readBackendRecord(env: NodeJS.ProcessEnv = process.env, o: { checkAlive?: boolean } = {}): BackendRecord | null {
  let text: string | null;
  try {
    text = readPrivateText(backendRecordPath(env))?.text ?? null;
  } catch {
    return null;
  }
  if (text === null) return null;
  let data: Partial<BackendRecord>;
  try {
    data = JSON.parse(text) as Partial<BackendRecord>;
  } catch {
    return null;
  }
  if (typeof data.pid !== 'number' || typeof data.url !== 'string' || typeof data.port !== 'number') return null;
  // Only a loopback address is ever recorded: a CLI must not be sent elsewhere with a token by an edited file.
  if (!/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+\/$/.test(data.url)) return null;
  if (o.checkAlive !== false && !processAlive(data.pid)) return null;
  return { pid: data.pid, url: data.url, port: data.port, startedAt: String(data.startedAt ?? '') };
}
