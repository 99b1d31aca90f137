import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import { tempHome, testEnv } from './backend-process.js';

export interface TestApp {
  app: FastifyInstance;
  home: string;
  close(): Promise<void>;
}

/** Builds the app in a fresh home, for app.inject tests. Always close it (use in afterEach). */
export async function buildTestApp(options: AppOptions & { envExtra?: NodeJS.ProcessEnv } = {}): Promise<TestApp> {
  const { home, cleanup } = tempHome();
  const env = options.env ?? testEnv(home, { HALOFORGE_KEYRING: 'off', HF_ENDPOINT: 'http://127.0.0.1:9', ...options.envExtra });
  let app: FastifyInstance;
  try {
    app = await buildApp({ logLevel: 'silent', ...options, env });
    await app.ready();
  } catch (err) {
    // A test that expects the start to fail still leaves nothing behind.
    cleanup();
    throw err;
  }
  return {
    app,
    home,
    close: async () => {
      await app.close();
      cleanup();
    },
  };
}

/** A LAN peer for app.inject. */
export const LAN = { remoteAddress: '192.168.1.50' } as const;
