import type { AuthMode } from '../../shared/api.js';
import type { AuditLog } from './audit/audit-log.js';
import type { TrustedProxies } from './auth/local-pass.js';
import type { TokenAuthority } from './auth/env-token.js';
import type { FailureThrottle } from './auth/throttle.js';
import type { TokenStore } from './auth/token-store.js';
import type { SettingsFile } from './config/settings.js';
import type { MachineMonitor } from './machine/machine-monitor.js';
import type { Exposure } from './net/exposure.js';
import type { ModelService } from './models/service.js';
import type { HfAccess } from './secrets/hf-access.js';
import type { ServingManager } from './serving/serving-manager.js';
import type { RecipeStore } from './runs/recipe-store.js';
import type { RunManager } from './runs/run-manager.js';

/** What the routes work with; built once per server by buildApp. */
export interface ServerContext {
  mode: AuthMode;
  env: NodeJS.ProcessEnv;
  store: TokenStore;
  envToken: TokenAuthority | null;
  audit: AuditLog;
  throttle: FailureThrottle;
  settings: SettingsFile;
  exposure: Exposure;
  hf: HfAccess;
  /** Models: search, pull into the shared Hugging Face cache, list, delete. */
  models: ModelService;
  /** The models this backend runs (/v1, run/stop, JIT). */
  serving: ServingManager;
  bind: { host: string; port: number };
  trustedProxies: TrustedProxies;
  runs: RunManager;
  recipes: RecipeStore;
  /** The Overview's live machine facts; samples only while a stream listens. */
  machine: MachineMonitor;
}

declare module 'fastify' {
  interface FastifyInstance {
    halo: ServerContext;
  }
}
