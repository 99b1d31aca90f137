import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFileAtomic } from '../fs/private-file.js';

// Which process group a stop signals. Under Node the keeper leads its run's group (the backend starts it
// detached) and the job is in it. Inside the desktop app the keeper is a utility process of the main process,
// in the app's own group, which no stop may signal: there the job leads a group of its own, and the keeper
// writes its id into the run folder for whoever stops the run.

/** Set (to "job") in the keeper's environment when the job must lead its own group; never passed on to the job. */
export const KEEPER_GROUP_ENV = 'HALOFORGE_KEEPER_GROUP';

/** A dot file: not an artifact of the run. */
const JOB_GROUP_FILE = '.job-group';

export function writeJobGroup(runDir: string, pgid: number): void {
  writePrivateFileAtomic(join(runDir, JOB_GROUP_FILE), `${pgid}\n`);
}

export function readJobGroup(runDir: string): number | null {
  try {
    const pgid = Number(readFileSync(join(runDir, JOB_GROUP_FILE), 'utf8').trim());
    return Number.isSafeInteger(pgid) && pgid > 1 ? pgid : null;
  } catch {
    return null;
  }
}
