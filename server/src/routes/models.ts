// `/api/public/models`: search the Hub, look at a model, pull it into the
// shared Hugging Face cache, follow and steer the pull, list and delete what
// is in the cache. The engine behind it is app.halo.models (ModelService).
import type { FastifyInstance } from 'fastify';
import type { ModelEvent, PullRequest } from '../../../shared/models.js';
import {
  errorResponses,
  LocalModelListSchema,
  ModelDeleteResultSchema,
  ModelDetailsSchema,
  ModelSearchResultSchema,
  PullInfoSchema,
  PullListSchema,
  PullParamsSchema,
  PullRequestSchema,
  RepoParamsSchema,
  RevisionQuerySchema,
  SearchQuerySchema,
} from './model-schemas.js';

const KEEPALIVE_MS = 15_000;
/** A burst of cache changes (a pull finishing several files at once) is one listing. */
const LOCAL_DEBOUNCE_MS = 250;

type RepoParams = { org: string; name: string };
type RevisionQuery = { revision?: string };

export async function modelRoutes(app: FastifyInstance): Promise<void> {
  const { models, store } = app.halo;
  const openStreams = new Set<() => void>();
  // Fastify waits for in-flight requests on close; a stream never finishes by itself.
  app.addHook('preClose', async () => {
    for (const end of openStreams) end();
  });

  app.get<{ Querystring: { q: string; limit?: string } }>(
    '/models/search',
    { config: { scope: 'read' }, schema: { querystring: SearchQuerySchema, response: { 200: ModelSearchResultSchema, ...errorResponses } } },
    async (request) => models.search(request.query.q.trim(), { limit: request.query.limit === undefined ? undefined : Number(request.query.limit) }),
  );

  app.get('/models/local', { config: { scope: 'read' }, schema: { response: { 200: LocalModelListSchema, ...errorResponses } } }, async () => models.listLocal());

  app.get<{ Params: RepoParams; Querystring: RevisionQuery }>(
    '/models/hub/:org/:name',
    { config: { scope: 'read' }, schema: { params: RepoParamsSchema, querystring: RevisionQuerySchema, response: { 200: ModelDetailsSchema, ...errorResponses } } },
    async (request) => models.details(`${request.params.org}/${request.params.name}`, request.query.revision),
  );

  app.get('/models/pulls', { config: { scope: 'read' }, schema: { response: { 200: PullListSchema, ...errorResponses } } }, async () => ({ pulls: models.listPulls() }));

  app.post<{ Body: PullRequest }>(
    '/models/pulls',
    { config: { scope: 'operate' }, schema: { body: PullRequestSchema, response: { 202: PullInfoSchema, ...errorResponses } } },
    async (request, reply) => reply.code(202).send(await models.startPull(request.body)),
  );

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post<{ Params: { id: string } }>(
      `/models/pulls/:id/${action}`,
      { config: { scope: 'operate' }, schema: { params: PullParamsSchema, response: { 200: PullInfoSchema, ...errorResponses } } },
      async (request) => models[action](request.params.id),
    );
  }

  app.delete<{ Params: RepoParams; Querystring: RevisionQuery }>(
    '/models/local/:org/:name',
    { config: { scope: 'operate' }, schema: { params: RepoParamsSchema, querystring: RevisionQuerySchema, response: { 200: ModelDeleteResultSchema, ...errorResponses } } },
    async (request) => models.remove({ repo: `${request.params.org}/${request.params.name}`, revision: request.query.revision }),
  );

  // Server-sent events, read with fetch + Authorization like the audit stream.
  // A client gets every pull as it stands at once, then each change; and the
  // whole local list whenever the cache changed.
  app.get('/models/events', { config: { scope: 'read' }, schema: { response: { '4xx': errorResponses['4xx'] } } }, (request, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    if (request.method === 'HEAD') return void res.end();
    res.write(': halo-forge models stream\n\n');
    const send = (event: ModelEvent) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event.type === 'pull' ? event.pull : event.models)}\n\n`);
    for (const pull of models.listPulls()) send({ type: 'pull', pull });

    let open = true;
    let localTimer: NodeJS.Timeout | undefined;
    let listing = false;
    const sendLocal = () => {
      clearTimeout(localTimer);
      localTimer = setTimeout(() => {
        if (listing) return sendLocal();
        listing = true;
        models.listLocal().then(
          (list) => open && send({ type: 'local', models: list }),
          (err: Error) => request.log.warn(`Could not list the model cache for the event stream: ${err.message}`),
        ).finally(() => (listing = false));
      }, LOCAL_DEBOUNCE_MS).unref();
    };
    const unsubscribePull = models.onPull((pull) => send({ type: 'pull', pull }));
    const unsubscribeLocal = models.onLocalChange(sendLocal);

    // A stream outlives the request that opened it: end it when its token is revoked.
    const { caller } = request;
    const authority = app.halo.envToken ?? store;
    const stillAllowed = () => caller.kind !== 'token' || authority.current(caller.hash) !== null;
    const unwatch = store.onChange(() => {
      if (!stillAllowed()) end();
    });
    const keepalive = setInterval(() => (stillAllowed() ? res.write(': keepalive\n\n') : end()), KEEPALIVE_MS).unref();
    const stop = () => {
      open = false;
      clearInterval(keepalive);
      clearTimeout(localTimer);
      unsubscribePull();
      unsubscribeLocal();
      unwatch();
      openStreams.delete(end);
    };
    const end = () => {
      stop();
      res.end();
    };
    openStreams.add(end);
    request.raw.on('close', stop);
  });
}
