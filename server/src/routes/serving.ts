import type { FastifyInstance } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { RUNTIME_NAMES, SERVING_STATES, type RunRequest, type StopRequest } from '../../../shared/serving.js';
import { eventStreams } from './event-stream.js';

/**
 * The Serving API under /api/public/serving: what runs (what `halo-forge ps`
 * shows), run and stop, and live streams of both the state and a runtime's
 * log. `read` may look, `operate` may run and stop.
 */

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Runtime = Type.Union(RUNTIME_NAMES.map((n) => Type.Literal(n)));

const RunningModelSchema = Type.Object({
  model: Type.String(),
  repo: Type.String(),
  file: Type.String(),
  commit: Nullable(Type.String()),
  runtime: Runtime,
  state: Type.Union(SERVING_STATES.map((s) => Type.Literal(s))),
  contextSize: Nullable(Type.Integer()),
  memoryBytes: Nullable(Type.Number()),
  startedAt: Type.String(),
  uptimeSeconds: Type.Number(),
  lastUsedAt: Nullable(Type.String()),
  unloadAt: Nullable(Type.String()),
  tokensPerSecond: Nullable(Type.Number()),
  requests: Type.Integer(),
  loadedBy: Type.Union([Type.Literal('user'), Type.Literal('jit'), Type.Literal('startup')]),
  crash: Nullable(
    Type.Object({
      reason: Type.String(),
      hint: Nullable(Type.String()),
      exitCode: Nullable(Type.Integer()),
      signal: Nullable(Type.String()),
      logTail: Type.String(),
      restartInMs: Nullable(Type.Number()),
    }),
  ),
});

const ServingStatusSchema = Type.Object({
  models: Type.Array(RunningModelSchema),
  available: Type.Array(
    Type.Object({ model: Type.String(), repo: Type.String(), file: Type.String(), commit: Type.String(), size: Type.Number(), runtime: Runtime, running: Type.Boolean() }),
  ),
  runtimes: Type.Array(Type.Object({ name: Runtime, installed: Type.Boolean(), detail: Type.String(), install: Nullable(Type.String()) })),
  maxLoaded: Type.Integer(),
  ttlSeconds: Nullable(Type.Number()),
});

const ModelName = Type.String({ minLength: 1, maxLength: 500, description: 'org/name or org/name:file.gguf' });

export async function servingRoutes(app: FastifyInstance): Promise<void> {
  const { serving } = app.halo;
  const openStream = eventStreams(app);

  app.get('/serving', { config: { scope: 'read' }, schema: { response: { 200: ServingStatusSchema } } }, async () => serving.status());

  app.post<{ Body: RunRequest }>(
    '/serving/run',
    {
      config: { scope: 'operate' },
      schema: {
        body: Type.Object(
          {
            model: ModelName,
            // Any word: an unknown runtime gets serving.unknown_runtime, which names the ones there are.
            runtime: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
            ctx: Type.Optional(Type.Integer({ minimum: 16, maximum: 4_194_304, description: 'a context size in tokens, from 16' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: RunningModelSchema },
      },
    },
    async (request) => serving.run(request.body, 'user'),
  );

  app.post<{ Body: StopRequest }>(
    '/serving/stop',
    { config: { scope: 'operate' }, schema: { body: Type.Object({ model: ModelName }, { additionalProperties: false }), response: { 200: RunningModelSchema } } },
    async (request) => serving.stop(request.body.model),
  );

  app.get('/serving/events', { config: { scope: 'read' } }, (request, reply) => {
    const stream = openStream(request, reply, 'halo-forge serving stream');
    if (!stream) return;
    let pending = false;
    // State changes come in bursts (starting, port, ready): one status per tick is enough.
    const push = () => {
      if (pending) return;
      pending = true;
      setImmediate(() => {
        pending = false;
        void serving.status().then((status) => stream.send('status', { type: 'status', status }), () => undefined);
      });
    };
    push();
    stream.onEnd(serving.onChange(push));
  });

  app.get<{ Querystring: { model: string } }>(
    '/serving/log',
    { config: { scope: 'read' }, schema: { querystring: Type.Object({ model: ModelName }) } },
    (request, reply) => {
      const log = serving.logOf(request.query.model);
      if (!log) return reply.code(404).send({ error: 'serving.not_running', message: `"${request.query.model}" is not running. halo-forge ps lists what is.` });
      const stream = openStream(request, reply, 'halo-forge serving stream');
      if (!stream) return;
      const model = request.query.model;
      const tail = log.tail.lines();
      if (tail) stream.send('log', { model, text: tail });
      stream.onEnd(log.onText((text) => stream.send('log', { model, text })));
    },
  );
}
