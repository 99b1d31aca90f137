import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuntimeSupervisor, type RuntimeState, type RuntimeSupervisorOptions } from '../../src/serving/runtime-supervisor.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RUNTIME_ENTRY = join(ROOT, 'dist', 'backend', 'serving-runtime.mjs');
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** The embedded runtime runs from the bundle, as in the product. */
export function requireRuntimeBuild(): void {
  if (!existsSync(RUNTIME_ENTRY)) throw new Error(`${RUNTIME_ENTRY} is missing: run "npm run build" (or "npm run build:backend") first`);
}

/** Canary secrets: distinctive values that must never turn up where they do not belong. */
export const CANARY = {
  hfToken: 'hf_CanaryHfTokenForServing0123456789ab',
  apiToken: 'hfk_CanaryApiTokenForServing0123456789abcdefgh',
};

/** Resolves with the first state that matches (the current one included), or rejects at the deadline. */
export function waitForState(supervisor: RuntimeSupervisor, match: (s: RuntimeState) => boolean, timeoutMs = 20_000, what = 'state'): Promise<RuntimeState> {
  if (match(supervisor.state)) return Promise.resolve(supervisor.state);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; state is ${JSON.stringify(supervisor.state)}`));
    }, timeoutMs);
    const off = supervisor.onState((s) => {
      if (match(s)) {
        clearTimeout(timer);
        off();
        resolve(s);
      }
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (exited, not yet reaped) counts as gone.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** What `ps` shows of a process: its argv, NUL-separated in /proc. */
export function commandLine(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
}

export function environOf(pid: number): string {
  return readFileSync(`/proc/${pid}/environ`, 'utf8');
}

export type SupervisorFactory = (opts: RuntimeSupervisorOptions) => RuntimeSupervisor;

/** Supervisors a test file stops after each test: `const s = supervisors(); afterEach(s.stopAll);` */
export function supervisors() {
  const made: RuntimeSupervisor[] = [];
  return {
    make(opts: RuntimeSupervisorOptions): RuntimeSupervisor {
      const s = new RuntimeSupervisor(opts);
      made.push(s);
      return s;
    },
    async stopAll(): Promise<void> {
      await Promise.all(made.splice(0).map((s) => s.stop()));
    },
  };
}
