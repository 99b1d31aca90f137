import { homedir } from 'node:os';
import { join } from 'node:path';

/** Everything halo-forge keeps lives under one folder: HALOFORGE_HOME, default ~/.halo-forge. */
export function haloHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HALOFORGE_HOME || join(homedir(), '.halo-forge');
}

export function tokenStorePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.HALOFORGE_TOKEN_STORE || join(haloHome(env), 'tokens.json');
}

export function auditLogPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(haloHome(env), 'audit.log');
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(haloHome(env), 'config.json');
}

export function secretsDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(haloHome(env), 'secrets');
}
