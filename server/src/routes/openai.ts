import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isHaloError } from '../errors.js';
import { redactSecrets } from '../secrets/redact.js';
import { proxyToRuntime, type ProxyOptions } from '../serving/openai-proxy.js';
import { watchToken } from '../auth/token-watch.js';
import { ServingError } from '../serving/serving-error.js';

/**
 * OpenAI's API on the backend's own port (/v1), behind the same gate as
 * /api/public: each request goes to the runtime that serves its `model`,
 * loading a downloaded model first if need be. Errors keep OpenAI's shape
 * here (and only here), so an SDK shows them as it shows OpenAI's.
 */

/** Prompts are text: 8 MiB is a whole book of context, and the runtime refuses the same past it. */
export const V1_BODY_LIMIT = 8 * 1024 * 1024;

/** What the app's onSend hook adds to every API answer; a proxied answer bypasses Fastify's hooks. */
const API_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' };

function openAiError(status: number, message: string, code: string | null, param: string | null = null, type?: string) {
  return { error: { message, type: type ?? (status >= 500 ? 'server_error' : status === 404 ? 'not_found_error' : 'invalid_request_error'), param, code } };
}

/** The Fastify error codes a client's bad body gets, in words an SDK user can act on. */
const BODY_ERRORS: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, `The request body is larger than ${V1_BODY_LIMIT / 1024 / 1024} MiB.`],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'The request body must be JSON (Content-Type: application/json).'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'The request body is empty; send a JSON object.'],
};

export async function openAiRoutes(app: FastifyInstance): Promise<void> {
  const { serving } = app.halo;

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err instanceof ServingError) return reply.code(err.statusCode).send(redactBody(err.toOpenAi()));
    if (isHaloError(err)) return reply.code(err.statusCode).send(openAiError(err.statusCode, redactSecrets(err.message), err.code));
    const known = err.code ? BODY_ERRORS[err.code] : undefined;
    if (known) {
      // Read and drop the rest of a refused upload: closing under a client still sending leaves it EPIPE, not the answer.
      // (Fastify marks every refused body Connection: close; the client then reads the 413 instead of EPIPE.)
      if (known[0] === 413) {
        reply.removeHeader('connection');
        request.raw.resume();
      }
      return reply.code(known[0]).send(openAiError(known[0], known[1], 'invalid_request_body'));
    }
    const status = err.statusCode ?? 500;
    if (status < 500) {
      const message = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? `The request body is not valid JSON: ${err.message}` : err.message;
      return reply.code(status).send(openAiError(status, redactSecrets(message), 'invalid_request_body'));
    }
    request.log.error(err);
    return reply.code(500).send(openAiError(500, 'The server hit an unexpected error; details are in its log.', 'internal'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(openAiError(404, `No route ${request.method} ${request.url.split('?')[0]}. This server answers /v1/models, /v1/chat/completions and /v1/completions.`, 'not_found')),
  );

  app.get('/models', { config: { scope: 'inference' } }, async () => {
    const status = await serving.status();
    const created = Math.floor(Date.now() / 1000);
    const running = status.models.filter((m) => m.state !== 'crashed');
    const data = [
      ...running.map((m) => ({ id: m.model, object: 'model', created: Math.floor(Date.parse(m.startedAt) / 1000), owned_by: m.repo.split('/')[0] ?? 'local', state: 'loaded' })),
      ...status.available.filter((m) => !running.some((r) => r.model === m.model)).map((m) => ({ id: m.model, object: 'model', created, owned_by: m.repo.split('/')[0] ?? 'local', state: 'not-loaded' })),
    ];
    return { object: 'list', data };
  });

  // A generation can stream for minutes; the gate saw the token only at its start.
  const callerWatch = ({ caller }: FastifyRequest): ProxyOptions['watchCaller'] => {
    if (caller.kind !== 'token') return undefined;
    return (cutOff) => {
      const token = watchToken(caller.hash, app.halo.envToken ?? app.halo.store, app.halo.store, (why) =>
        cutOff(
          why === 'expired'
            ? { status: 401, type: 'authentication_error', code: 'auth.expired', message: `The token "${caller.name}" expired while answering; create a new one.` }
            : { status: 401, type: 'authentication_error', code: 'auth.invalid', message: `The token "${caller.name}" was revoked while answering.` },
        ),
      );
      token.check();
      return token.stop;
    };
  };

  const forward = (path: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return reply.code(400).send(openAiError(400, 'The request body must be a JSON object.', 'invalid_request_body'));
    const model = (body as { model?: unknown }).model;
    if (typeof model !== 'string' || model.length === 0 || model.length > 500) {
      return reply.code(400).send(openAiError(400, '"model" is required: the id of a model (GET /v1/models lists them).', 'model_required', 'model'));
    }
    const lease = await serving.acquire(model);
    reply.hijack();
    // Serialized again from the parsed object, never the client's bytes: the runtime reads exactly what was
    // checked here (one "model", no duplicate keys read differently by another parser).
    const forwarded = model === lease.model ? body : { ...body, model: lease.model };
    const answer: ProxyOptions = { lease, path, body: JSON.stringify(forwarded), req: request.raw, res: reply.raw, headers: API_HEADERS, watchCaller: callerWatch(request) };
    // A stream is answered by the runtime on the client's own connection where it can be (connection-handoff.ts).
    if (!((body as { stream?: unknown }).stream === true && lease.handoff?.take(answer))) proxyToRuntime(answer);
    return reply;
  };

  app.post('/chat/completions', { config: { scope: 'inference' }, bodyLimit: V1_BODY_LIMIT }, forward('/v1/chat/completions'));
  app.post('/completions', { config: { scope: 'inference' }, bodyLimit: V1_BODY_LIMIT }, forward('/v1/completions'));
}

function redactBody<T>(body: T): T {
  return JSON.parse(redactSecrets(JSON.stringify(body))) as T;
}
