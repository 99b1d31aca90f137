// What the embedded runtime child and its supervisor agree on, apart from HTTP.

/** The per-launch key: in the environment, never in argv, where `ps` shows it to every user of the machine. */
export const RUNTIME_KEY_ENV = 'HALOFORGE_RUNTIME_KEY';
/** A non-secret id the child echoes on /health (X-Halo-Launch). */
export const RUNTIME_LAUNCH_ENV = 'HALOFORGE_RUNTIME_LAUNCH';

/** Exit codes the supervisor reads (with the IPC message), never the log. */
export const EXIT_CONFIG = 2;
export const EXIT_PORT_IN_USE = 3;

/** A start that cannot succeed (bad file, context too large): the supervisor shows it and does not restart. */
export interface RuntimeFatalMessage {
  type: 'runtime-fatal';
  message: string;
  hint: string;
  /** What kind of configuration problem, for whoever asked for the launch (e.g. "context_too_large"). */
  code?: string;
}

export function isRuntimeFatal(value: unknown): value is RuntimeFatalMessage {
  const m = value as Partial<RuntimeFatalMessage> | null;
  return !!m && m.type === 'runtime-fatal' && typeof m.message === 'string' && typeof m.hint === 'string';
}
