import { join } from 'node:path';
import { writePrivateFileAtomic, ensurePrivateDir } from '../fs/private-file.js';
import { redactSecrets } from '../secrets/redact.js';
import type { RuntimeCommand, RuntimeLaunch, RuntimeName } from './runtime-adapter.js';

/**
 * The record of one launch, `launch_context.json` in its run folder: what ran,
 * on what, with which arguments and which environment variables. Spec 001
 * ("What is never written"): it holds variable *names* only, and arguments
 * pass through redaction, so it never holds a secret value.
 */
export interface LaunchContext {
  launch_id: string;
  started_at: string;
  runtime: RuntimeName;
  model: string;
  repo: string | null;
  commit: string | null;
  file: string;
  port: number;
  context_size: number | null;
  command: string;
  arguments: string[];
  /** Every variable the runtime's environment holds, by name. */
  environment: string[];
  /** The ones Halo Forge set for this launch (HF_TOKEN, the runtime key...), by name. */
  environment_added: string[];
  log: string;
}

/** Flags whose next argument is a secret, whatever it looks like. */
const SECRET_FLAGS = new Set(['--api-key', '--api-key-file', '--hf-token', '--token']);

export function redactArguments(args: string[]): string[] {
  return args.map((arg, i) => {
    if (i > 0 && SECRET_FLAGS.has(args[i - 1]!)) return '[REDACTED]';
    const eq = arg.indexOf('=');
    if (eq > 0 && SECRET_FLAGS.has(arg.slice(0, eq))) return `${arg.slice(0, eq)}=[REDACTED]`;
    return redactSecrets(arg);
  });
}

export function launchContext(runtime: RuntimeName, launch: RuntimeLaunch, cmd: RuntimeCommand, logPath: string): LaunchContext {
  const added = new Set(cmd.addedEnv);
  if (launch.env.HF_TOKEN) added.add('HF_TOKEN');
  return {
    launch_id: launch.launchId,
    started_at: new Date().toISOString(),
    runtime,
    model: launch.model.id,
    repo: launch.model.repo ?? null,
    commit: launch.model.commit ?? null,
    file: launch.model.path,
    port: launch.port,
    context_size: launch.contextSize ?? null,
    command: redactSecrets(cmd.command),
    arguments: redactArguments(cmd.args),
    environment: Object.keys(cmd.env).filter((name) => cmd.env[name] !== undefined).sort(),
    environment_added: [...added].sort(),
    log: logPath,
  };
}

/** Writes the record (0600, atomically) into its run folder and returns its path. */
export function writeLaunchContext(runDir: string, context: LaunchContext): string {
  ensurePrivateDir(runDir);
  const path = join(runDir, 'launch_context.json');
  writePrivateFileAtomic(path, `${JSON.stringify(context, null, 2)}\n`);
  return path;
}
