// The HTTP contract between the backend (server/), the dashboard (renderer/)
// and the desktop shell (electron/). It imports nothing, so any of them may
// import it without reaching into another's room.
import type { ModelErrorCode } from './models.js';
import type { ServingErrorCode } from './serving.js';
import type { RunErrorCode } from './runs.js';

/** The localStorage key the spec names, so automation can pre-seed it. */
export const API_TOKEN_STORAGE_KEY = 'halo-forge:api-token';

export const API_PREFIX = '/api/public';

/** inference: the OpenAI API (/v1) only, the token for an OpenAI client on another machine. */
export const SCOPES = ['admin', 'operate', 'read', 'inference'] as const;
export type Scope = (typeof SCOPES)[number];

export const AUTH_MODES = ['auto', 'on', 'off'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Stable error codes: clients switch on these, people read `message`. */
export type ErrorCode =
  | 'auth.required'
  | 'auth.invalid'
  | 'auth.expired'
  | 'auth.forbidden'
  | 'auth.throttled'
  | 'request.invalid'
  | 'request.host'
  | 'token.invalid_name'
  | 'token.duplicate'
  | 'token.not_found'
  | 'exposure.fixed'
  | 'exposure.failed'
  | 'hf.invalid_token'
  | 'hf.rejected'
  | 'hf.unreachable'
  | 'hf.env_token'
  | 'hf.storage_failed'
  | 'hf.invalid_model'
  /** The disk is full: nothing was saved (HTTP 507). */
  | 'storage.full'
  /** Halo Forge's folder is on a read-only file system: nothing was saved (HTTP 503). */
  | 'storage.read_only'
  /** This user may not write to Halo Forge's folder: nothing was saved (HTTP 503). */
  | 'storage.denied'
  /** The disk failed the write: nothing was saved (HTTP 503). */
  | 'storage.failed'
  | 'internal'
  | ModelErrorCode
  | ServingErrorCode
  | RunErrorCode;

export interface ApiError {
  error: ErrorCode;
  message: string;
}

export interface Health {
  status: 'ok';
  version: string;
}

export interface AuthSession {
  /** The caller passed the local-user rules (loopback, no proxy headers, loopback Host/Origin). */
  local: boolean;
  /** Whether this caller must present a token to use the API. */
  authRequired: boolean;
  token: { name: string; scope: Scope } | null;
  /**
   * A remote client that reached the workstation through a proxy on it (a
   * loopback socket that is not a local user: forwarding headers, Via,
   * HTTP/1.0, a non-loopback Host): the remote-access switch does not govern it.
   */
  proxied: boolean;
}

export interface TokenInfo {
  name: string;
  scope: Scope;
  created: string;
  lastUsed: string | null;
  /** The client address of that last use, so a person can tell devices apart. */
  lastUsedFrom: string | null;
  expires: string | null;
  note: string;
}

export interface TokenCreateRequest {
  name: string;
  scope?: Scope;
  /** A duration such as "30d", "12h", "90m"; absent or null: never expires. */
  expires?: string | null;
  note?: string;
}

/** The only response that ever carries a secret; it is shown once. */
export interface TokenCreated extends TokenInfo {
  token: string;
}

/** What kind of address another device would use; the backend decides (server/src/net/interfaces.ts). */
export type AddressKind = 'hostname' | 'lan' | 'vpn' | 'container';

/** One way to reach the workstation, labelled, best first. */
export interface PairingAddress {
  url: string;
  kind: AddressKind;
  /** "Local network (eth0)", "VPN (tailscale0)", ... */
  label: string;
}

export interface RemoteAccess {
  /** Remote clients can reach the API right now. */
  enabled: boolean;
  /** Fixed by the command line (`serve --host 0.0.0.0`): the switch cannot change it. */
  fixed: boolean;
  /** "all" (every non-loopback interface) or one interface address. */
  interface: string;
  port: number;
  /** The URLs a remote client would use. */
  urls: string[];
  /** The same and the workstation's name, labelled and ranked: name first, then LAN, VPN, container networks last. */
  addresses: PairingAddress[];
  /** Remote access is on but no token exists yet: nobody can use it. */
  needsToken: boolean;
}

export interface ConnectionInfo {
  bind: { host: string; port: number };
  authMode: AuthMode;
  /** Non-loopback clients are served (and need a token, unless auth is off). */
  remote: RemoteAccess;
  tokenCount: number;
  envToken: boolean;
}

export interface RemoteAccessRequest {
  enabled: boolean;
  interface?: string;
  port?: number;
}

export type AuditEvent =
  | 'auth.failed'
  | 'auth.throttled'
  | 'token.created'
  | 'token.revoked'
  | 'token.first_use'
  | 'remote.enabled'
  | 'remote.disabled'
  | 'hf.saved'
  | 'hf.cleared'
  | 'run.started'
  | 'run.stopped';

export interface AuditEntry {
  time: string;
  event: AuditEvent;
  /** Client address, where the event came from a request. */
  address?: string;
  token?: string;
  reason?: string;
  detail?: string;
}

// ---- Hugging Face access ---------------------------------------------------

export const HF_SOURCES = ['env', 'keyring', 'file', 'hf-cache', 'none'] as const;
export type HfSource = (typeof HF_SOURCES)[number];

export type HfRole = 'read' | 'write' | 'fineGrained' | 'admin' | null;

export interface HfStatus {
  present: boolean;
  source: HfSource;
  verified: boolean;
  username: string | null;
  tokenName: string | null;
  role: HfRole;
  canClear: boolean;
  keyring: { available: boolean; reason: string | null };
  checkedAt: string | null;
  message: string;
  /** Warnings a person should see: write rights, env wins over a saved token, ... */
  warnings: string[];
  /** A token saved by the Hugging Face tools exists and can be adopted with one click. */
  hfCacheAvailable: boolean;
}

export interface HfSaveRequest {
  /** The token to save; omit with `adoptHfCache: true` to adopt the Hugging Face tools' token. */
  token?: string;
  verify?: boolean;
  adoptHfCache?: boolean;
}

export const MODEL_ACCESS = ['granted', 'gated', 'not_found', 'unauthorized', 'unreachable'] as const;
export type ModelAccess = (typeof MODEL_ACCESS)[number];

export interface ModelCheckRequest {
  model: string;
}

export interface ModelCheck {
  model: string;
  access: ModelAccess;
  gated: false | 'auto' | 'manual' | null;
  url: string;
  message: string;
}
