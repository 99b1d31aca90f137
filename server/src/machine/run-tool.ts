import { execFile } from 'node:child_process';
import { buildChildEnv } from '../secrets/child-env.js';

/** Runs a vendor tool and resolves with its stdout; rejects with a ToolError. */
export type ToolRunner = (command: string, args: string[]) => Promise<string>;

export class ToolError extends Error {
  constructor(
    readonly command: string,
    /** `missing`: not installed (ENOENT); `failed`: it ran and refused, or timed out. */
    readonly kind: 'missing' | 'failed',
    message: string,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** A GPU tool that hangs (a wedged driver) must not hold a sample: 5 s, then it is killed. */
const TOOL_TIMEOUT_MS = 5000;

export const runTool: ToolRunner = (command, args) =>
  new Promise((resolve, reject) => {
    execFile(command, args, { timeout: TOOL_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024, windowsHide: true, env: { ...buildChildEnv(process.env, null), LC_ALL: 'C' } }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new ToolError(command, 'missing', `${command} is not installed`));
      const said = (stdout || stderr).trim().split('\n')[0]?.slice(0, 200);
      reject(new ToolError(command, 'failed', err.killed ? `${command} did not answer within ${TOOL_TIMEOUT_MS / 1000} s` : `${command} failed${said ? `: ${said}` : ''}`));
    });
  });
