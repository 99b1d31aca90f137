import { fork, type Serializable } from 'node:child_process';
import type { SupervisorMessage } from '../shared/ipc.js';
import type { ForkedChild, ForkEntry } from './child-relay.js';
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

/**
 * The backend's children forked as Node child processes: what stands in for
 * utilityProcess.fork when the tests drive a ChildRelay under Node.
 */
export const nodeFork: ForkEntry = (entry, args, { env }): ForkedChild => {
  const child = fork(entry, args, { env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
  let error: string | undefined;
  let exitListener: (code: number | null, signal: string | null, error?: string) => void = () => {};
  let ended = false;
  const end = (code: number | null, signal: string | null) => {
    if (ended) return;
    ended = true;
    exitListener(code, signal, error);
  };
  // 'close' comes after the exit, the last output and the last IPC message, in that order for the relay.
  child.once('close', (code, signal) => end(code, signal));
  child.once('error', (err) => {
    error = err.message;
    // A process that was never created emits no 'close'.
    if (child.pid === undefined) end(null, null);
  });
  return {
    get pid() {
      return child.pid;
    },
    onSpawn: (listener) => child.once('spawn', () => listener(child.pid!)),
    onOutput: (listener) => {
      child.stdout!.setEncoding('utf8').on('data', (text: string) => listener('stdout', text));
      child.stderr!.setEncoding('utf8').on('data', (text: string) => listener('stderr', text));
    },
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => (exitListener = listener),
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    send: (message) => {
      if (child.connected) child.send(message as Serializable);
    },
  };
};
