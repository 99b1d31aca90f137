import { fork } from 'node:child_process';
import type { SupervisorMessage } from '../shared/ipc.js';
import type { BackendChild, BackendEvents, BackendSpawner } from './supervisor.js';

export interface NodeSpawnerOptions {
  env?: NodeJS.ProcessEnv;
  execArgv?: string[];
}

/**
 * Runs the backend as a Node child process with an IPC channel: the way the
 * tests (and any Node-hosted supervisor) start it. The app itself uses
 * Electron's utilityProcess (utility-backend.ts), which needs no
 * ELECTRON_RUN_AS_NODE and so survives the RunAsNode fuse being off.
 */
export function nodeSpawner(entry: string, opts: NodeSpawnerOptions = {}): BackendSpawner {
  return (args: string[], events: BackendEvents): BackendChild => {
    const child = fork(entry, args, {
      env: opts.env ?? process.env,
      execArgv: opts.execArgv ?? [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    let exited = false;
    const exit = (code: number | null, signal: string | null) => {
      if (exited) return;
      exited = true;
      events.exit(code, signal);
    };
    child.stdout!.setEncoding('utf8').on('data', (text: string) => events.output(text));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => events.output(text));
    child.on('message', (message) => events.message(message));
    child.on('exit', (code, signal) => exit(code, signal));
    child.on('error', (err) => {
      events.output(`${err.message}\n`);
      // A process that never started emits no 'exit'.
      if (child.pid === undefined) exit(null, null);
    });
    return {
      get pid() {
        return child.pid;
      },
      send(message: SupervisorMessage) {
        if (child.connected) child.send(message, (err) => err && events.output(`could not tell the backend to stop: ${err.message}\n`));
      },
      kill(signal) {
        if (!exited) child.kill(signal);
      },
    };
  };
}
