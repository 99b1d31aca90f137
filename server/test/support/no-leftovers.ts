// Vitest globalSetup for the whole suite: a test leaves nothing in the temp folder
// and never touches the real home. The run gets a temp folder and a home of its own
// (TMPDIR and HOME, which every worker and every process a test starts inherit);
// whatever is left in them at the end was left by a test, and fails the run. The
// real home is compared too, for a program that finds it another way (getpwuid).
// (The real /tmp is not: on a shared machine other runs write there at the same time.)
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** Which test made each temp home (server/test/support/backend-process.ts notes it as it makes one). */
const HOME_RECORD = '.halo-forge-homes';

function creators(dir: string): Map<string, string> {
  try {
    return new Map(readFileSync(join(dir, HOME_RECORD), 'utf8').split('\n').filter(Boolean).map((line) => line.split('\t') as [string, string]));
  } catch {
    return new Map();
  }
}

/** What a folder holds, as a set of names (empty when it cannot be read). */
function entries(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
}

export default function setup(): () => void {
  const realHome = homedir();
  const realTmp = tmpdir();
  const homeBefore = entries(realHome);

  const runTmp = mkdtempSync(join(realTmp, 'halo-forge-suite-tmp-'));
  const runHome = mkdtempSync(join(realTmp, 'halo-forge-suite-home-'));
  const saved = { TMPDIR: process.env.TMPDIR, HOME: process.env.HOME };
  process.env.TMPDIR = runTmp;
  process.env.HOME = runHome;

  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    // jiti is a dependency's own compile cache, kept between its runs; the record is this check's own.
    const made = creators(runTmp);
    const leftovers = [
      ...[...entries(runTmp)].filter((name) => name !== 'jiti' && name !== HOME_RECORD).map((name) => `${name} (in the temp folder${made.has(name) ? `, made by ${made.get(name)}` : ''})`),
      ...[...entries(runHome)].map((name) => `~/${name} (in the home folder)`),
      ...[...entries(realHome)].filter((name) => !homeBefore.has(name)).map((name) => `${join(realHome, name)} (in the real home)`),
    ];
    rmSync(runTmp, { recursive: true, force: true });
    rmSync(runHome, { recursive: true, force: true });
    if (leftovers.length) {
      // Vitest reports an error thrown here but still exits 0: the exit code is set here too.
      process.exitCode = 1;
      throw new Error(`The tests left these behind (a test must remove what it creates, and never write to the real home):\n  ${leftovers.join('\n  ')}`);
    }
  };
}
