import { accessSync, constants, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path';
import { RUN_RESERVED_ENV, type RunStartRequest } from '../../../shared/runs.js';
import { httpError } from '../errors.js';
import { looksLikeSecret, redactSecrets } from '../secrets/redact.js';

/**
 * What a run may be asked to do, checked before anything is spawned: a
 * refusal names the field and the reason, never the value (a value may be a
 * token someone pasted in the wrong place).
 */

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_ARGS = 512;
const MAX_ARG = 8 * 1024;
const MAX_ENV = 128;
const MAX_ENV_VALUE = 32 * 1024;

export function nameProblem(name: string): string | null {
  return NAME.test(name) ? null : `"${redactSecrets(name).slice(0, 80)}" is not a valid name: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit.`;
}

/** The program's base name, made a valid run name ("python3.11" stays, "/opt/x/my tool" becomes "my_tool"). */
export function defaultName(program: string): string {
  const base = basename(program).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return base && !nameProblem(base) ? base : 'run';
}

/** A start request checked as far as it can be before anything is queued: command, variables, name, folder, program. */
export function checkRequest(request: RunStartRequest, env: NodeJS.ProcessEnv): { name: string; cwd: string; extraEnv: Record<string, string> } {
  const extraEnv = request.env ?? {};
  checkCommandAndEnv(request.command, extraEnv);
  const name = request.name ?? defaultName(request.command[0]!);
  checkName(name);
  const cwd = checkCwd(request.cwd ?? env.HOME ?? homedir());
  resolveProgram(request.command[0]!, cwd, extraEnv.PATH ?? env.PATH);
  return { name, cwd, extraEnv };
}

export function checkName(name: string): void {
  const problem = nameProblem(name);
  if (problem) throw httpError(400, 'run.name_invalid', problem);
}

/** True when `value` is (or holds) a token: one shaped like hf_/hfk_, or a registered secret of any shape. */
function holdsSecret(value: string): boolean {
  return looksLikeSecret(value) || redactSecrets(value) !== value;
}

/**
 * argv travels in the clear: /proc/PID/cmdline is readable by every user of
 * the machine, and the command is recorded in launch_context.json. A token
 * there is refused rather than masked, because masking the record would not
 * take it out of the process list.
 */
export function commandProblem(command: string[]): string | null {
  if (command.length === 0 || command[0]!.trim() === '') return 'The command is empty: give the program to run, then its arguments.';
  if (command.length > MAX_ARGS) return `The command has ${command.length} arguments; at most ${MAX_ARGS} are accepted.`;
  for (const [i, arg] of command.entries()) {
    const which = i === 0 ? 'The program' : `Argument ${i}`;
    if (arg.length > MAX_ARG) return `${which} is longer than ${MAX_ARG} characters.`;
    if (arg.includes('\0')) return `${which} holds a NUL character.`;
    if (holdsSecret(arg)) {
      return `${which} holds what looks like a token. Arguments are visible to every user of this machine (ps) and are recorded; the job receives HF_TOKEN in its environment, so leave the token out of the command.`;
    }
  }
  return null;
}

/** Each problem names the variable; none quotes a value. */
export function envProblems(env: Record<string, string>): string[] {
  const problems: string[] = [];
  const names = Object.keys(env);
  if (names.length > MAX_ENV) problems.push(`${names.length} environment variables given; at most ${MAX_ENV} are accepted.`);
  for (const name of names) {
    const value = env[name]!;
    const shown = redactSecrets(name).slice(0, 80);
    if (!ENV_NAME.test(name)) problems.push(`"${shown}" is not a valid environment variable name: letters, digits and "_", not starting with a digit.`);
    else if (name === 'HF_TOKEN' || name === 'HUGGING_FACE_HUB_TOKEN') problems.push(`${name} cannot be set here: the job receives the workstation's Hugging Face token as HF_TOKEN (change it in Settings → Hugging Face).`);
    else if ((RUN_RESERVED_ENV as readonly string[]).includes(name) || name.startsWith('HALOFORGE_')) problems.push(`${name} is set by Halo Forge for every run and cannot be given.`);
    else if (value.length > MAX_ENV_VALUE) problems.push(`The value of ${name} is longer than ${MAX_ENV_VALUE} characters.`);
    else if (value.includes('\0')) problems.push(`The value of ${name} holds a NUL character.`);
    else if (holdsSecret(value)) problems.push(`The value of ${name} looks like a token; runs never carry tokens other than the workstation's HF_TOKEN.`);
  }
  return problems;
}

export function checkCommandAndEnv(command: string[], env: Record<string, string>): void {
  const problem = commandProblem(command);
  if (problem) throw httpError(400, 'run.command_invalid', problem);
  const problems = envProblems(env);
  if (problems.length) throw httpError(400, 'run.env_invalid', problems.join(' '));
}

/** The working folder: absolute, a folder, one this user may enter and read. Returns it resolved. */
export function checkCwd(cwd: string): string {
  if (!isAbsolute(cwd)) throw httpError(400, 'run.cwd_refused', `The working folder must be an absolute path; "${redactSecrets(cwd).slice(0, 200)}" is not.`);
  const path = resolve(cwd);
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw httpError(400, 'run.cwd_refused', code === 'EACCES' ? `The working folder ${path} is not readable by this user.` : `The working folder ${path} does not exist.`);
  }
  if (!isDir) throw httpError(400, 'run.cwd_refused', `The working folder ${path} is not a folder.`);
  try {
    accessSync(path, constants.R_OK | constants.X_OK);
  } catch {
    throw httpError(400, 'run.cwd_refused', `The working folder ${path} is not readable by this user (it needs read and search permission).`);
  }
  return path;
}

/**
 * The program as the job's PATH finds it (or relative to the working folder,
 * when it has a slash). A missing program is refused before the run exists,
 * with the reason, instead of a run that fails a moment later.
 */
export function resolveProgram(program: string, cwd: string, path: string | undefined): string {
  const executable = (file: string): 'ok' | 'missing' | 'folder' | 'denied' => {
    try {
      if (statSync(file).isDirectory()) return 'folder';
      accessSync(file, constants.X_OK);
      return 'ok';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EACCES' ? 'denied' : 'missing';
    }
  };
  const shown = redactSecrets(program).slice(0, 200);
  if (program.includes('/')) {
    const file = resolve(cwd, program);
    const found = executable(file);
    if (found === 'ok') return file;
    const why = found === 'missing' ? 'does not exist' : found === 'folder' ? 'is a folder' : 'is not executable by this user';
    throw httpError(400, 'run.command_not_found', `The program ${file} ${why}.`);
  }
  for (const dir of (path ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const file = join(dir, program);
    if (executable(file) === 'ok') return file;
  }
  throw httpError(400, 'run.command_not_found', `"${shown}" was not found on the job's PATH; give its full path, or install it.`);
}
