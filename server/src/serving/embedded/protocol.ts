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

/**
 * A client's connection handed to the runtime (connection-handoff.ts): the
 * backend has passed the request through the gate and read its body, and
 * sends the socket itself with this message, so the runtime writes the
 * answer straight to the client with no second hop per token. The gate has
 * already judged the caller: the socket is the proof, no key rides along.
 */
export interface ConnectionOffer {
  type: 'connection';
  id: number;
  /** /v1/chat/completions or /v1/completions. */
  path: string;
  /** The JSON body the gate checked (with `model` set to the id the runtime serves). */
  body: string;
  /** Headers every answer of the backend carries (no-store, nosniff...). */
  headers: Record<string, string>;
}

/** The backend's caller lost the right to the answer (token revoked or expired): end it with this error. */
export interface ConnectionCut {
  type: 'connection-cut';
  id: number;
  status: number;
  error: { message: string; type: string; param: null; code: string };
}

/** From the runtime: the answer's first bytes are about to go out (from then on only an event may be added). */
export interface ConnectionAnswered {
  type: 'connection-answered';
  id: number;
}

/** From the runtime: the answer is over (whole, cut or abandoned), and what it generated. */
export interface ConnectionDone {
  type: 'connection-done';
  id: number;
  tokens: number;
  seconds: number;
}

function isMessage<T extends { type: string; id: number }>(value: unknown, type: T['type']): value is T {
  const m = value as Partial<T> | null;
  return !!m && typeof m === 'object' && m.type === type && Number.isSafeInteger(m.id);
}
export const isConnectionOffer = (v: unknown): v is ConnectionOffer => isMessage<ConnectionOffer>(v, 'connection');
export const isConnectionCut = (v: unknown): v is ConnectionCut => isMessage<ConnectionCut>(v, 'connection-cut');
export const isConnectionAnswered = (v: unknown): v is ConnectionAnswered => isMessage<ConnectionAnswered>(v, 'connection-answered');
export const isConnectionDone = (v: unknown): v is ConnectionDone => isMessage<ConnectionDone>(v, 'connection-done');
