import type { FastifyInstance } from 'fastify';
import type { AuthMode } from '../../shared/api.js';
import { buildApp, StartupError, type AppOptions } from './app.js';
import { isLoopbackAddress } from './auth/local-pass.js';
import type { LogFormat } from './log/log-format.js';
import { isWildcard, externalAddresses, urlFor } from './net/interfaces.js';
import { auditLogPath } from './paths.js';
import { redactSecrets } from './secrets/redact.js';
import { removeBackendRecord, writeBackendRecord } from './serving/backend-record.js';
import { hasSupervisor, onSupervisorMessage, tellSupervisor } from './supervisor-channel.js';

export interface ServeOptions {
  host: string;
  port: number;
  /** Try the next ports when this one is taken (the desktop app); the CLI fails instead. */
  portFallback?: boolean;
  auth: AuthMode;
  insecureNoAuth?: boolean;
  trustProxy?: string[];
  allowedHosts?: string[];
  env?: NodeJS.ProcessEnv;
  logLevel?: string;
  /** Default `pretty`: `serve` is a person's command; a program asks for `json`. */
  logFormat?: LogFormat;
  /** `--model REPO[:FILE]`: load this model once listening (headless servers). */
  model?: string;
  /** `--model-ttl 30m|never`: idle models are unloaded after this (default 60m, or config.json). */
  modelTtl?: string;
  /** `--max-models N`: at most this many models loaded at once (default 2). */
  maxModels?: string;
  /** Restore remote access from config.json (default true). */
  restoreRemoteAccess?: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  port: number;
  stop(): Promise<void>;
}

const PORT_ATTEMPTS = 20;
const MORE_THAN_WARN = new Set(['info', 'debug', 'trace']);

export function checkServeOptions(opts: ServeOptions): void {
  const loopback = isLoopbackAddress(opts.host) || opts.host === 'localhost';
  if (opts.auth === 'off' && !loopback && !opts.insecureNoAuth) {
    throw new StartupError(
      `Refusing to serve ${opts.host} with --auth off: anyone on the network could operate this workstation.`,
      'Remove --auth off (tokens turn on automatically), or add --insecure-no-auth if you really mean it.',
    );
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new StartupError(`--port ${opts.port} is not a port number.`, 'Use a number from 1 to 65535.');
}

/** Starts the backend and returns once it is listening. Throws StartupError with a hint for a person. */
export async function serve(opts: ServeOptions): Promise<RunningServer> {
  checkServeOptions(opts);
  const logFormat = opts.logFormat ?? 'pretty';
  const appOptions: AppOptions = {
    env: opts.env,
    host: opts.host,
    port: opts.port,
    auth: opts.auth,
    insecureNoAuth: opts.insecureNoAuth,
    trustProxy: opts.trustProxy,
    allowedHosts: opts.allowedHosts,
    logLevel: opts.logLevel,
    logFormat,
    servingChoices: { modelTtl: opts.modelTtl, maxModels: opts.maxModels },
  };
  const app = await buildApp(appOptions);
  const ctx = app.halo;

  let port = opts.port;
  for (let attempt = 0; ; attempt++) {
    try {
      await quietly(app, () => app.listen({ host: opts.host, port }));
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' && opts.portFallback && attempt < PORT_ATTEMPTS && port !== 0) {
        port++;
        continue;
      }
      await app.close();
      if (code === 'EADDRINUSE' && opts.portFallback && port !== opts.port) {
        throw new StartupError(`Ports ${opts.port}–${port} on ${opts.host} are all in use.`, 'Another program (or another Halo Forge) holds them; close it and start Halo Forge again.');
      }
      if (code === 'EADDRINUSE') throw new StartupError(`Port ${port} on ${opts.host} is already in use.`, `Stop the other program, or pick another port with --port.`);
      if (code === 'EADDRNOTAVAIL') throw new StartupError(`${opts.host} is not an address of this machine.`, 'Use 127.0.0.1, 0.0.0.0 or one of this machine\'s addresses with --host.');
      if (code === 'EACCES') throw new StartupError(`Not allowed to listen on port ${port}.`, 'Ports below 1024 need extra rights; use a higher port.');
      throw err;
    }
  }
  const address = app.server.address();
  ctx.bind.port = typeof address === 'object' && address ? address.port : port;
  const localUrl = `http://${isWildcard(opts.host) || opts.host === 'localhost' ? '127.0.0.1' : opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${ctx.bind.port}/`;

  // One block for a person (or, as JSON, one record per line for a machine): where, who may connect, where the logs are.
  const block: string[] = [];
  const say = (line: string) => block.push(line);
  if (ctx.exposure.fixed) {
    const urls = isWildcard(opts.host) ? externalAddresses().map((a) => urlFor(a.address, ctx.bind.port)) : [urlFor(opts.host, ctx.bind.port)];
    say(`Halo Forge is serving ${opts.host}:${ctx.bind.port}, reachable from the network${urls.length ? `: ${urls.join(' ')}` : ''}`);
  } else {
    say(`Halo Forge is serving ${localUrl}`);
    const setting = ctx.settings.read().remoteAccess;
    if (setting.enabled && opts.restoreRemoteAccess !== false) {
      try {
        const state = await ctx.exposure.enable(setting.interface, setting.port);
        say(`Remote access is ON (saved in ${ctx.settings.path}): ${state.urls.join(' ')}`);
      } catch (err) {
        say(`Remote access is saved as on, but could not be opened: ${(err as Error).message}`);
      }
    }
  }

  const remote = ctx.exposure.state().enabled;
  if (opts.auth === 'off') {
    say(`WARNING: authentication is OFF${remote ? ' and this server is reachable from the network: anyone who can reach it can operate this workstation' : ''}.`);
  } else if (ctx.envToken) {
    say('API tokens: using HALOFORGE_API_TOKEN from the environment (the token file is ignored).');
  } else if (opts.auth === 'on' || remote) {
    say(
      ctx.store.size === 0
        ? 'Authentication is ON and no API token exists yet. Create one with: halo-forge token create NAME'
        : `Authentication is ON for ${opts.auth === 'on' ? 'every client' : 'remote clients'} (${ctx.store.size} token${ctx.store.size === 1 ? '' : 's'}).`,
    );
  } else {
    say('Local clients need no token; remote access is off.');
  }
  say(`Audit log: ${auditLogPath(opts.env)}`);
  if (logFormat === 'pretty') {
    say(`Below: warnings and errors${app.log.level === 'debug' || app.log.level === 'trace' ? ', and every request' : ' (--log-level debug shows every request)'}. Ctrl+C stops the server.`);
    process.stdout.write(redactSecrets(`${block.map((line, i) => (i === 0 ? line : `  ${line}`)).join('\n')}\n`));
  } else {
    // Through the logger, so its redaction applies and a log reader sees the block in its own order.
    block.forEach((line, i) => app.log.info(i === 0 ? { url: localUrl, port: ctx.bind.port } : {}, line));
  }

  ctx.store.watch();
  // The CLI's `models run`, `models stop` and `ps` find this backend through its record (loopback only).
  const recorded = isWildcard(opts.host) || isLoopbackAddress(opts.host) || opts.host === 'localhost';
  if (recorded) {
    try {
      writeBackendRecord(ctx.env, { pid: process.pid, url: localUrl, port: ctx.bind.port, startedAt: new Date().toISOString() });
    } catch (err) {
      app.log.warn(`Could not record this backend's address for the CLI (${(err as Error).message}); halo-forge models run and ps will not find it.`);
    }
  }
  if (opts.model) {
    const model = opts.model;
    say(`Loading ${model} (--model)...`);
    ctx.serving.run({ model }, 'startup').then(
      (m) => say(`${m.model} is ready on ${localUrl}v1 (runtime ${m.runtime}).`),
      (err: Error) => app.log.error(`--model ${model}: ${err.message}`),
    );
  }
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= app.close().then(() => {
      if (recorded) removeBackendRecord(ctx.env);
    }));
  return { app, url: localUrl, port: ctx.bind.port, stop };
}

/**
 * Runs `work` with the app's info lines held back: Fastify announces each
 * address it listens on, and the startup block says it once already.
 */
async function quietly<T>(app: FastifyInstance, work: () => Promise<T>): Promise<T> {
  const level = app.log.level;
  if (MORE_THAN_WARN.has(level)) app.log.level = 'warn';
  try {
    return await work();
  } finally {
    app.log.level = level;
  }
}

/**
 * `halo-forge serve` as a long-running process: stops gracefully on SIGINT,
 * SIGTERM, SIGHUP or the supervisor's word, and when the supervisor disappears (so no
 * orphan outlives a killed desktop app).
 */
export async function runServe(opts: ServeOptions): Promise<void> {
  let server: RunningServer;
  try {
    server = await serve(opts);
  } catch (err) {
    if (err instanceof StartupError) tellSupervisor({ type: 'fatal', message: err.message, hint: err.hint });
    throw err;
  }
  tellSupervisor({ type: 'ready', port: server.port, url: server.url, pid: process.pid });

  const shutdown = async (exitCode: number) => {
    const force = setTimeout(() => process.exit(exitCode), 10_000).unref();
    try {
      await server.stop();
    } finally {
      clearTimeout(force);
      process.exit(exitCode);
    }
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  // The terminal closed: stop as gracefully as for Ctrl+C (last-used times are written), not at once.
  process.once('SIGHUP', () => void shutdown(0));
  onSupervisorMessage((m) => {
    if (m?.type === 'shutdown') void shutdown(0);
  });
  if (process.send) process.once('disconnect', () => void shutdown(0));
  if (hasSupervisor()) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) void shutdown(0);
    }, 1000).unref();
  }
}
