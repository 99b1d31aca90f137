import { utilityProcess } from 'electron';
import type { ChildSignal, SupervisorMessage } from '../shared/ipc.js';
import { afterOutput, ChildRelay, type ForkedChild, type ForkEntry } from './child-relay.js';
import type { BackendChild, BackendEvents, BackendSpawner } from './supervisor.js';

/** The longest a backend's exit waits for its children (the relay SIGKILLs them well before). */
const CHILDREN_GONE_CAP_MS = 15_000;

/**
 * Runs the backend in an Electron utility process: a Node environment with
 * `process.parentPort` (which serve.ts reports through), no
 * ELECTRON_RUN_AS_NODE, and Chromium's own parent-death handling. The
 * backend's own children (model runtimes, run keepers) are utility processes
 * of this main process too, forked for it by a ChildRelay; the backend's exit
 * is reported once they are gone as well, so a quit or restart leaves none.
 */
export function utilitySpawner(entry: string, env: NodeJS.ProcessEnv, backendDir: string): BackendSpawner {
  return (args: string[], events: BackendEvents): BackendChild => {
    const child = utilityProcess.fork(entry, args, { serviceName: 'Halo Forge backend', stdio: 'pipe', env });
    let exited = false;
    const relay = new ChildRelay({
      fork: utilityFork,
      backendDir,
      send: (event) => {
        if (!exited) child.postMessage(event);
      },
    });
    child.stdout?.setEncoding('utf8').on('data', (text: string) => events.output(text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => events.output(text));
    child.on('message', (message: unknown) => {
      if (!relay.handle(message)) events.message(message);
    });
    child.on('error', (type, location) => events.output(`utility process error: ${type} at ${location}\n`));
    child.on('exit', (code) => {
      if (exited) return;
      exited = true;
      const cap = new Promise<void>((r) => setTimeout(r, CHILDREN_GONE_CAP_MS).unref());
      void Promise.race([relay.backendGone(), cap]).finally(() => events.exit(code, null));
    });
    return {
      get pid() {
        return child.pid;
      },
      send(message: SupervisorMessage) {
        if (!exited) child.postMessage(message);
      },
      kill(signal) {
        if (exited) return;
        // utilityProcess.kill() sends SIGTERM on POSIX (and terminates on Windows); it has no SIGKILL.
        if (signal === 'SIGTERM' || child.pid === undefined) child.kill();
        else process.kill(child.pid, 'SIGKILL');
      },
    };
  };
}

/** One of the backend's children as a utility process of this main process. */
const utilityFork: ForkEntry = (entry, args, { env, serviceName }): ForkedChild => {
  const child = utilityProcess.fork(entry, args, { env, serviceName, stdio: 'pipe' });
  let markExited!: () => void;
  const exited = new Promise<void>((r) => (markExited = r));
  let exit: { code: number | null; error?: string } = { code: null };
  child.once('exit', (code) => {
    exit = { ...exit, code };
    markExited();
  });
  // A child that could not run at all (a missing entry) ends with 'error' then 'exit'; the type says what went wrong.
  child.on('error', (type) => (exit = { ...exit, error: `utility process error: ${type}` }));
  return {
    get pid() {
      return child.pid;
    },
    onSpawn: (listener) => child.once('spawn', () => child.pid !== undefined && listener(child.pid)),
    onOutput: (listener) => {
      child.stdout?.setEncoding('utf8').on('data', (text: string) => listener('stdout', text));
      child.stderr?.setEncoding('utf8').on('data', (text: string) => listener('stderr', text));
    },
    onMessage: (listener) => child.on('message', listener),
    send: (message) => {
      if (child.pid !== undefined) child.postMessage(message);
    },
    onExit: (listener) => afterOutput([child.stdout, child.stderr], exited, () => listener(exit.code, null, exit.error)),
    kill: (signal: ChildSignal) => {
      try {
        // utilityProcess.kill() is SIGTERM (TerminateProcess on Windows); the others go by pid.
        if (signal === 'SIGTERM' || child.pid === undefined || process.platform === 'win32') child.kill();
        else process.kill(child.pid, signal);
      } catch {
        // Already gone.
      }
    },
  };
};
