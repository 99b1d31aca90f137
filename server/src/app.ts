import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { RequestListener } from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { API_PREFIX, type AuthMode, type Scope } from '../../shared/api.js';
import { AuditLog } from './audit/audit-log.js';
import { EnvToken } from './auth/env-token.js';
import { parseTrustedProxies } from './auth/local-pass.js';
import { FailureThrottle } from './auth/throttle.js';
import { TokenStore } from './auth/token-store.js';
import { SettingsFile } from './config/settings.js';
import type { ServerContext } from './context.js';
import { isHaloError } from './errors.js';
import { prettyLines, type LogFormat } from './log/log-format.js';
import { QuietRequestLog } from './log/request-log.js';
import { Exposure } from './net/exposure.js';
import { answerClientError, createHttpServer } from './net/http-server.js';
import { auditLogPath, configPath, haloHome, tokenStorePath } from './paths.js';
import { authGate, isApiRequest, OPENAI_PREFIX } from './plugins/auth-gate.js';
import { auditRoutes } from './routes/audit.js';
import { connectionRoutes } from './routes/connection.js';
import { healthRoutes } from './routes/health.js';
import { machineRoutes } from './routes/machine.js';
import { GpuDetector } from './machine/gpus.js';
import { MachineMonitor } from './machine/machine-monitor.js';
import { resolveHubCache } from './models/cache-dir.js';
import { huggingfaceRoutes } from './routes/huggingface.js';
import { modelRoutes } from './routes/models.js';
import { openAiRoutes } from './routes/openai.js';
import { servingRoutes } from './routes/serving.js';
import { ServingManager, type ServingManagerOptions } from './serving/serving-manager.js';
import { hubAccessOf } from './serving/hub-access.js';
import { machineMemory } from './serving/memory.js';
import { servingChoices, type ServingChoices } from './serving/serving-settings.js';
import { createModelService } from './models/model-service.js';
import type { ModelService } from './models/service.js';
import { tokenRoutes } from './routes/tokens.js';
import { runRoutes } from './routes/runs.js';
import { createRuns } from './runs/create-runs.js';
import { createHfAccess, type HfAccess } from './secrets/hf-access.js';
import { hubUrl } from './secrets/hub-client.js';
import { redactSecrets, registerSecret } from './secrets/redact.js';
import { projectRoot, version } from './version.js';
import { AJV_OPTIONS, openBodyProblem, validationMessage, type SchemaError } from './request-validation.js';

export interface AppOptions {
  env?: NodeJS.ProcessEnv;
  host?: string;
  port?: number;
  auth?: AuthMode;
  /** Allows --auth off together with network exposure. */
  insecureNoAuth?: boolean;
  trustProxy?: string | string[];
  allowedHosts?: string[];
  /** Where pino writes; default stdout. Every line passes through redaction first. */
  logStream?: NodeJS.WritableStream;
  logLevel?: string;
  /** `json` (default: what a program embedding the app reads) or `pretty` (a person at a terminal). */
  logFormat?: LogFormat;
  /** Colours in pretty lines; default: when the log stream is a terminal and NO_COLOR is not set. */
  logColor?: boolean;
  /** Replace the Hugging Face service (tests). */
  hf?: HfAccess;
  /** Replace the Models engine (route tests). */
  models?: ModelService;
  /** The built dashboard; default dist/renderer. */
  dashboardDir?: string;
  /** Serving: the idle TTL, the cap, runtime settings (tests: supervisor timeouts). The rest comes from the context. */
  serving?: Partial<Omit<ServingManagerOptions, 'home' | 'env' | 'localModels' | 'hfToken'>>;
  /** `serve --model-ttl 30m|never --max-models N`; config.json's "serving" section otherwise. */
  servingChoices?: { modelTtl?: string; maxModels?: string };
  /** Told of every route as it is registered (tests: the auth fuzzer aims at the app's own route table). */
  onRoute?: (route: RegisteredRoute) => void;
}

/** A route as the app registered it: what the gate needs to know about it. */
export interface RegisteredRoute {
  method: string;
  url: string;
  config: { scope?: Scope; public?: boolean };
}

/** Random characters an environment token needs after "hfk_": short values are guessable and slip past log redaction. */
const MIN_ENV_SECRET = 20;

export class StartupError extends Error {
  constructor(message: string, readonly hint: string) {
    super(message);
    this.name = 'StartupError';
  }
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * A pino destination that masks any token value before a line is written:
 * the last step for every line, after it has been formatted for its reader.
 */
function redactingStream(target: NodeJS.WritableStream, format: (line: string) => string = (line) => line): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      target.write(redactSecrets(format(chunk.toString('utf8'))));
      done();
    },
  });
}

/**
 * The 400 for a body, parameter or query value that fails its schema. A field
 * name is the client's text, and a client may paste a token where a name
 * goes, so the sentence is redacted. Fastify keeps the Ajv errors on the
 * error it throws; the value each one carries (`verbose`) is removed, so no
 * later log of that error can hold what the client sent.
 */
function validationError(errors: SchemaError[], part: string): Error {
  const error = new Error(redactSecrets(validationMessage(errors, part)));
  for (const e of errors as (SchemaError & { data?: unknown; schema?: unknown })[]) {
    delete e.data;
    delete e.schema;
    delete e.parentSchema;
  }
  return error;
}

/**
 * Builds the backend. Throws StartupError (with the file and the problem)
 * when the token store or settings cannot be trusted; never overwrites them.
 */
export async function buildApp(options: AppOptions = {}): Promise<FastifyInstance> {
  const env = options.env ?? process.env;
  const mode = options.auth ?? 'auto';
  const host = options.host ?? '127.0.0.1';

  const store = new TokenStore(tokenStorePath(env));
  try {
    store.load();
  } catch (err) {
    throw new StartupError((err as Error).message, `Token store: ${store.path}`);
  }
  const settings = new SettingsFile(configPath(env));
  let choices: ServingChoices;
  try {
    const saved = settings.read();
    choices = servingChoices(options.servingChoices ?? {}, saved);
  } catch (err) {
    throw new StartupError((err as Error).message, `Settings: ${settings.path}`);
  }

  const envSecret = env.HALOFORGE_API_TOKEN?.trim();
  if (envSecret) {
    if (!/^hfk_[A-Za-z0-9_-]+$/.test(envSecret)) {
      throw new StartupError('HALOFORGE_API_TOKEN does not look like a halo-forge token: "hfk_" followed by letters, digits, "-" or "_".', 'Environment: HALOFORGE_API_TOKEN');
    }
    if (envSecret.length < 4 + MIN_ENV_SECRET) {
      throw new StartupError(
        `HALOFORGE_API_TOKEN is too short to be safe: use at least ${MIN_ENV_SECRET} random characters after "hfk_".`,
        'Generate one with: echo "hfk_$(openssl rand -base64 32 | tr -d \'=+/\')"',
      );
    }
    registerSecret(envSecret);
  }
  const envToken = envSecret ? new EnvToken(envSecret) : null;

  try {
    hubUrl(env);
  } catch (err) {
    throw new StartupError((err as Error).message, 'Environment: HF_ENDPOINT');
  }

  let trustedProxies;
  try {
    trustedProxies = parseTrustedProxies(options.trustProxy);
  } catch (err) {
    throw new StartupError((err as Error).message, 'Command line: --trust-proxy');
  }

  const logTarget = options.logStream ?? process.stdout;
  // Colours only for a terminal that wants them (https://no-color.org); a pipe or a file gets plain text.
  const colour = options.logColor ?? ((logTarget as { isTTY?: boolean }).isTTY === true && !env.NO_COLOR);
  const format = options.logFormat === 'pretty' ? await prettyLines(colour) : undefined;

  let handler: RequestListener | null = null;
  const app = Fastify({
    logController: new QuietRequestLog(),
    logger: {
      level: options.logLevel ?? 'info',
      stream: redactingStream(logTarget, format),
      redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', 'req.body.token'], censor: '[REDACTED]' },
      serializers: {
        // Fastify's request summary, without the query string: that is where a client that got it wrong
        // puts its token (?token=, ?api_key=), and the redaction cannot recognise one spelled
        // differently (hfk%5F..., upper case). No route reads anything there worth a log line.
        req: (request: FastifyRequest) => ({
          method: request.method,
          url: request.url.split('?')[0],
          host: request.host,
          remoteAddress: request.ip,
          remotePort: request.socket?.remotePort,
        }),
      },
    },
    // The gate reads headers only; bodies are small JSON.
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 200 },
    clientErrorHandler: answerClientError,
    ajv: { customOptions: AJV_OPTIONS },
    schemaErrorFormatter: (errors, part) => validationError(errors as SchemaError[], part),
    serverFactory: (h) => {
      handler = h;
      return createHttpServer(h);
    },
    // Req ids are not secrets, but the default counter is enough and cheap.
  } satisfies FastifyServerOptions);

  // On a refusing disk every audit line (the gate's, the routes') costs only itself: reported here, never thrown.
  const audit = new AuditLog(auditLogPath(env), undefined, (err) => app.log.error(`Could not write the audit log: ${err.message}`));
  const throttle = new FailureThrottle();
  const hf = options.hf ?? createHfAccess({ env, audit, log: (message) => app.log.warn(message) });
  // The engine reads the Hugging Face token through hf, the one place that resolves it.
  const models = options.models ?? createModelService({ env, hf, owner: 'server', log: (line) => app.log.info(line) });
  // One detector for the Overview and for serving's memory check: the same readings, one node-llama-cpp check.
  const gpus = new GpuDetector();
  const ctx: ServerContext = {
    mode,
    env,
    store,
    envToken,
    audit,
    throttle,
    settings,
    exposure: new Exposure({
      bindHost: host,
      bindPort: () => ctx.bind.port,
      handler: () => handler!,
      hasTokens: () => envToken !== null || store.size > 0,
      authOff: mode === 'off',
      insecureNoAuth: options.insecureNoAuth === true,
    }),
    hf,
    models,
    serving: new ServingManager({
      home: haloHome(env),
      env,
      localModels: () => models.listLocal(),
      // Resolved at each launch, so a token saved after startup reaches the next runtime.
      hfToken: async () => (await hf.childEnv({})).HF_TOKEN ?? null,
      hubAccess: (repo) => hubAccessOf(hf, repo),
      log: (line) => app.log.info(line),
      ttlMs: choices.ttlMs,
      maxLoaded: choices.maxLoaded,
      memory: () => machineMemory(gpus),
      runtimes: {
        ...(choices.threads !== undefined ? { embedded: { threads: choices.threads } } : {}),
        ...(choices.executables?.['llama-server'] ? { 'llama-server': { executable: choices.executables['llama-server'] } } : {}),
        ...(choices.executables?.vllm ? { vllm: { executable: choices.executables.vllm } } : {}),
      },
      ...options.serving,
    }),
    bind: { host, port: options.port ?? 8000 },
    trustedProxies,
    ...createRuns(env, hf, (message) => app.log.warn(message)),
    machine: new MachineMonitor({
      connection: () => ({ bind: `${ctx.bind.host}:${ctx.bind.port}`, remote: ctx.exposure.state().enabled, authMode: mode, version }),
      cacheDir: () => resolveHubCache(env),
      models,
      gpus,
      runtimes: {
        list: () => ({
          available: true,
          running: ctx.serving.running().map((m) => ({ id: m.model, model: m.repo, runtime: m.runtime, state: m.state, memoryBytes: m.memoryBytes, tokensPerSecond: m.tokensPerSecond })),
        }),
      },
      log: (message) => app.log.warn(message),
    }),
  };
  app.decorate('halo', ctx);
  for (const warning of [...store.warnings, ...settings.warnings]) app.log.warn(warning);
  store.onReloadError = (message) => app.log.error(`${message} Keeping the tokens loaded before the change.`);

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    if (isHaloError(err)) return reply.code(err.statusCode).headers(err.headers).send(err.toBody());
    const status = err.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: 'request.invalid', message: err.message });
    // A client that hung up mid-answer (a static file cut short) is no fault of the server's, and
    // must not be a way for anyone to fill the log with error reports.
    if (request.raw.socket.destroyed) request.log.info(`The connection closed before the answer was sent: ${err.message}`);
    else request.log.error(err);
    // The type is set again: the handler may have set another one (a static file's) before it failed.
    return reply.code(500).type('application/json').send({ error: 'internal', message: 'The server hit an unexpected error; details are in its log.' });
  });

  app.addHook('onSend', async (request, reply) => {
    if (isApiRequest(request)) reply.header('cache-control', 'no-store');
    else reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
  });

  // Must come before any route: a body schema that lets unknown fields through is a mistake to fix, not to run.
  app.addHook('onRoute', (route) => {
    const problem = openBodyProblem(route.schema?.body);
    if (problem) throw new Error(`${String(route.method)} ${route.url}: the ${problem}.`);
    for (const method of [route.method].flat()) options.onRoute?.({ method, url: route.url, config: { ...route.config } });
  });

  await app.register(authGate, {
    mode,
    authority: () => envToken ?? store,
    throttle,
    audit,
    trustedProxies,
    allowedHosts: options.allowedHosts ?? [],
    onLoopbackListener: (request) => !ctx.exposure.fixed && !ctx.exposure.isRemote(request.raw),
  });

  await app.register(
    async (api) => {
      await api.register(healthRoutes);
      await api.register(tokenRoutes);
      await api.register(connectionRoutes);
      await api.register(auditRoutes);
      await api.register(huggingfaceRoutes);
      await api.register(runRoutes);
      await api.register(modelRoutes);
      await api.register(servingRoutes);
      await api.register(machineRoutes);
      api.setNotFoundHandler((request, reply) => reply.code(404).send({ error: 'request.invalid', message: `No API route ${request.method} ${request.url.split('?')[0]}.` }));
    },
    { prefix: API_PREFIX },
  );
  await app.register(openAiRoutes, { prefix: OPENAI_PREFIX });

  const dashboardDir = options.dashboardDir ?? join(projectRoot, 'dist', 'renderer');
  if (existsSync(join(dashboardDir, 'index.html'))) {
    await app.register(fastifyStatic, { root: dashboardDir, wildcard: false, index: 'index.html', maxAge: 0 });
    app.setNotFoundHandler((_request, reply) => reply.sendFile('index.html'));
  } else {
    app.get('/', async (_request, reply) =>
      reply.type('text/html').send('<!doctype html><meta charset="utf-8"><title>Halo Forge</title><p>The dashboard is not built. Run <code>npm run build</code>, then reload.</p>'),
    );
  }

  app.addHook('onClose', async () => {
    ctx.machine.close();
    await ctx.exposure.close();
    // Stopping the backend stops its runtimes (a kill -9 is the runtimes' own parent watch's job).
    await ctx.serving.close();
    await ctx.runs.close();
    await ctx.models.close();
    // A verification still talking to the Hub would write its verdict after the stop.
    await ctx.hf.close();
    await store.close();
    audit.close();
  });
  return app;
}
