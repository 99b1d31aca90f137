import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import type { RecipeRequest, RecipeStartRequest, RunStartRequest, RunStreamEvent, SaveRecipeRequest } from '../../../shared/runs.js';
import { RUN_STATES } from '../../../shared/runs.js';
import { eventStreams } from './event-stream.js';

// Runs (issue 14). Starting a run executes a command as the workstation's user,
// so it needs admin; operate may start a saved recipe and stop runs; read
// may watch. The route list and the stream's frames are in shared/runs.ts.

const Nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);
const ApiErrorSchema = Type.Object({ error: Type.String(), message: Type.String() });
const errors = { '4xx': ApiErrorSchema, '5xx': ApiErrorSchema };

const Command = Type.Array(Type.String({ maxLength: 8192 }), { minItems: 1, maxItems: 512 });
// Any name here (run-input.ts refuses a bad one by name, in words); additionalProperties false is what the app's
// body rule asks of every object, and the pattern matching every name keeps it from refusing them all.
const Env = Type.Object({}, { patternProperties: { '^': Type.String({ maxLength: 32768 }) }, additionalProperties: false, maxProperties: 128 });
const Name = Type.String({ minLength: 1, maxLength: 64 });

const MetricPointSchema = Type.Object({
  seq: Type.Integer(),
  step: Nullable(Type.Number()),
  epoch: Nullable(Type.Number()),
  time: Type.String(),
  source: Type.Union([Type.Literal('file'), Type.Literal('stdout'), Type.Literal('trainer')]),
  values: Type.Record(Type.String(), Type.Number()),
});

// Every field a client may see; serialization drops anything else (the keeper's pid record, the caller's env values).
const RunInfoSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  state: Type.Union(RUN_STATES.map((s) => Type.Literal(s))),
  recipe: Nullable(Type.String()),
  command: Type.Array(Type.String()),
  cwd: Type.String(),
  env: Type.Array(Type.String()),
  model: Nullable(Type.Object({ repo: Type.String(), commit: Type.String(), path: Type.String() })),
  gpu: Type.Boolean(),
  runDir: Type.String(),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  endedAt: Nullable(Type.String()),
  pid: Nullable(Type.Integer()),
  exitCode: Nullable(Type.Integer()),
  signal: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  logTail: Type.String(),
  artifacts: Type.Array(Type.Object({ path: Type.String(), bytes: Type.Integer() })),
  lastMetric: Nullable(MetricPointSchema),
  startedBy: Type.String(),
});

const RecipeSchema = Type.Object({
  name: Type.String(),
  command: Type.Array(Type.String()),
  cwd: Nullable(Type.String()),
  env: Type.Record(Type.String(), Type.String()),
  model: Nullable(Type.String()),
  revision: Nullable(Type.String()),
  gpu: Type.Boolean(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const RecipeBody = Type.Object(
  {
    name: Name,
    command: Command,
    cwd: Type.Optional(Nullable(Type.String({ maxLength: 4096 }))),
    env: Type.Optional(Env),
    model: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    revision: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    gpu: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const RunParams = Type.Object({ run: Type.String({ minLength: 1, maxLength: 100 }) });
const RecipeParams = Type.Object({ name: Name });

const BACKLOG_BYTES = 64 * 1024;

/** Who started it, for the record: a token's name, or the local user; "(cli)" when the CLI asked. */
function startedBy(request: FastifyRequest): string {
  const who = request.caller.kind === 'token' ? `token ${request.caller.name}` : request.caller.kind === 'anonymous' ? 'anonymous' : 'local user';
  return /^halo-forge-cli\//.test(request.headers['user-agent'] ?? '') ? `${who} (cli)` : who;
}

export async function runRoutes(app: FastifyInstance): Promise<void> {
  const { runs, recipes, audit } = app.halo;
  const openStream = eventStreams(app);

  const audited = (request: FastifyRequest, event: 'run.started' | 'run.stopped', detail: string) =>
    audit.append({ event, address: request.clientAddress ?? undefined, token: request.caller.kind === 'token' ? request.caller.name : undefined, detail });

  app.get('/runs', { schema: { response: { 200: Type.Object({ runs: Type.Array(RunInfoSchema) }), ...errors } } }, async () => ({ runs: runs.list() }));

  app.post<{ Body: RunStartRequest }>(
    '/runs',
    {
      config: { scope: 'admin' },
      schema: {
        body: Type.Object(
          {
            name: Type.Optional(Name),
            command: Command,
            cwd: Type.Optional(Type.String({ maxLength: 4096 })),
            env: Type.Optional(Env),
            model: Type.Optional(Type.String({ maxLength: 200 })),
            revision: Type.Optional(Type.String({ maxLength: 200 })),
            gpu: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 201: RunInfoSchema, ...errors },
      },
    },
    async (request, reply) => {
      const run = await runs.start(request.body, { startedBy: startedBy(request) });
      audited(request, 'run.started', `run ${run.id} (${run.name})`);
      reply.code(201);
      return run;
    },
  );

  // Static paths before /runs/:run: find-my-way prefers them, so a run cannot be called "recipes".
  app.get('/runs/recipes', { schema: { response: { 200: Type.Object({ recipes: Type.Array(RecipeSchema) }), ...errors } } }, async () => ({ recipes: recipes.list() }));

  app.post<{ Body: RecipeRequest }>(
    '/runs/recipes',
    { config: { scope: 'admin' }, schema: { body: RecipeBody, response: { 201: RecipeSchema, ...errors } } },
    async (request, reply) => {
      reply.code(201);
      return recipes.create(request.body);
    },
  );

  app.put<{ Params: { name: string }; Body: RecipeRequest }>(
    '/runs/recipes/:name',
    { config: { scope: 'admin' }, schema: { params: RecipeParams, body: RecipeBody, response: { 200: RecipeSchema, ...errors } } },
    async (request) => recipes.update(request.params.name, request.body),
  );

  app.delete<{ Params: { name: string } }>(
    '/runs/recipes/:name',
    { config: { scope: 'admin' }, schema: { params: RecipeParams, response: { 200: RecipeSchema, ...errors } } },
    async (request) => recipes.remove(request.params.name),
  );

  app.post<{ Params: { name: string }; Body: RecipeStartRequest | undefined }>(
    '/runs/recipes/:name/start',
    {
      config: { scope: 'operate' },
      schema: { params: RecipeParams, body: Type.Optional(Type.Object({ name: Type.Optional(Name) }, { additionalProperties: false })), response: { 201: RunInfoSchema, ...errors } },
    },
    async (request, reply) => {
      const recipe = recipes.get(request.params.name);
      const run = await runs.start(
        {
          name: request.body?.name ?? recipe.name,
          command: recipe.command,
          ...(recipe.cwd ? { cwd: recipe.cwd } : {}),
          env: recipe.env,
          ...(recipe.model ? { model: recipe.model } : {}),
          ...(recipe.revision ? { revision: recipe.revision } : {}),
          gpu: recipe.gpu,
        },
        { startedBy: startedBy(request), recipe: recipe.name },
      );
      audited(request, 'run.started', `run ${run.id} (${run.name}) from recipe ${recipe.name}`);
      reply.code(201);
      return run;
    },
  );

  app.get<{ Params: { run: string } }>('/runs/:run', { schema: { params: RunParams, response: { 200: RunInfoSchema, ...errors } } }, async (request) => runs.get(request.params.run));

  app.post<{ Params: { run: string } }>(
    '/runs/:run/stop',
    { config: { scope: 'operate' }, schema: { params: RunParams, response: { 200: RunInfoSchema, ...errors } } },
    async (request) => {
      const before = runs.get(request.params.run);
      const run = await runs.stop(before.id, startedBy(request));
      if (before.state !== run.state) audited(request, 'run.stopped', `run ${run.id} (${run.name})`);
      return run;
    },
  );

  app.post<{ Params: { run: string }; Body: SaveRecipeRequest }>(
    '/runs/:run/recipe',
    {
      config: { scope: 'admin' },
      schema: { params: RunParams, body: Type.Object({ name: Name }, { additionalProperties: false }), response: { 201: RecipeSchema, ...errors } },
    },
    async (request, reply) => {
      const run = runs.get(request.params.run);
      const recipe = recipes.create({
        name: request.body.name,
        command: run.command,
        cwd: run.cwd,
        env: runs.requestedEnv(run.id),
        model: run.model?.repo ?? null,
        revision: run.model?.commit ?? null,
        gpu: run.gpu,
      });
      reply.code(201);
      return recipe;
    },
  );

  app.get<{ Params: { run: string }; Querystring: { tail?: string } }>(
    '/runs/:run/log',
    { schema: { params: RunParams, querystring: Type.Object({ tail: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,6}$', description: 'bytes, at most 4194304' })) }) } },
    async (request, reply) => {
      const tail = Math.min(Number(request.query.tail ?? BACKLOG_BYTES), 4 * 1024 * 1024);
      return reply.type('text/plain; charset=utf-8').send(runs.logTail(request.params.run, tail));
    },
  );

  app.get<{ Params: { run: string } }>(
    '/runs/:run/metrics',
    { schema: { params: RunParams, response: { 200: Type.Object({ points: Type.Array(MetricPointSchema) }), ...errors } } },
    async (request) => ({ points: runs.metrics(request.params.run) }),
  );

  app.get<{ Params: { run: string } }>('/runs/:run/events', { schema: { params: RunParams } }, (request, reply) => {
    const run = runs.get(request.params.run);
    const stream = openStream(request, reply);
    if (!stream) return;
    const send = ({ event, data }: RunStreamEvent) => stream.send(event, data);
    // The backlog is read and the subscription taken in one synchronous step (events arrive from the manager's
    // poll, never in between): no line falls between the two, and none shows twice.
    send({ event: 'run', data: runs.get(run.id) });
    const backlog = runs.logBacklog(run.id, BACKLOG_BYTES);
    if (backlog) send({ event: 'log', data: { text: backlog } });
    for (const point of runs.metrics(run.id)) send({ event: 'metric', data: point });
    stream.onEnd(
      runs.subscribe(run.id, (event) => {
        send(event);
        if (event.event === 'end') stream.end();
      }),
    );
    if (runs.isFinished(run.id)) {
      send({ event: 'end', data: runs.get(run.id) });
      stream.end();
    }
  });
}
