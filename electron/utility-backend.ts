import { utilityProcess } from 'electron';
import type { SupervisorMessage } from '../shared/ipc.js';
import type { BackendChild, BackendEvents, BackendSpawner } from './supervisor.js';

/**
 * Runs the backend in an Electron utility process: a Node environment with
 * `process.parentPort` (which serve.ts reports through), no
 * ELECTRON_RUN_AS_NODE, and Chromium's own parent-death handling.
 */
export function utilitySpawner(entry: string, env: NodeJS.ProcessEnv): BackendSpawner {
  return (args: string[], events: BackendEvents): BackendChild => {
    const child = utilityProcess.fork(entry, args, { serviceName: 'Halo Forge backend', stdio: 'pipe', env });
    let exited = false;
    child.stdout?.setEncoding('utf8').on('data', (text: string) => events.output(text));
    child.stderr?.setEncoding('utf8').on('data', (text: string) => events.output(text));
    child.on('message', (message: unknown) => events.message(message));
    child.on('error', (type, location) => events.output(`utility process error: ${type} at ${location}\n`));
    child.on('exit', (code) => {
      if (exited) return;
      exited = true;
      events.exit(code, null);
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
