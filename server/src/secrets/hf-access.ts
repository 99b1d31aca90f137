// Placeholder interface; the Hugging Face access issue replaces this file.
import type { HfStatus, ModelCheck } from '../../../shared/api.js';
import type { AuditLog } from '../audit/audit-log.js';

export interface HfAccess {
  status(): Promise<HfStatus>;
  save(request: { token?: string; verify: boolean; adoptHfCache?: boolean }): Promise<HfStatus>;
  clear(): Promise<HfStatus>;
  verify(): Promise<HfStatus>;
  checkModel(model: string): Promise<ModelCheck>;
}

export function createHfAccess(_opts: { env: NodeJS.ProcessEnv; audit: AuditLog }): HfAccess {
  return {} as HfAccess;
}
