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
import { eventStreams } from './event-stream.js';

/** A burst of cache changes (a pull finishing several files at once) is one listing. */
const LOCAL_DEBOUNCE_MS = 250;

type RepoParams = { org: string; name: string };
type RevisionQuery = { revision?: string };

export async function modelRoutes(app: FastifyInstance): Promise<void> {
  const { models } = app.halo;
  const openStream = eventStreams(app);

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

  // A client gets every pull as it stands at once, then each change; and the
  // whole local list whenever the cache changed.
  app.get('/models/events', { config: { scope: 'read' }, schema: { response: { '4xx': errorResponses['4xx'] } } }, (request, reply) => {
    const stream = openStream(request, reply, 'halo-forge models stream');
    if (!stream) return;
    const send = (event: ModelEvent) => stream.send(event.type, event.type === 'pull' ? event.pull : event.models);
    for (const pull of models.listPulls()) send({ type: 'pull', pull });

    let localTimer: NodeJS.Timeout | undefined;
    let listing = false;
    const sendLocal = () => {
      clearTimeout(localTimer);
      localTimer = setTimeout(() => {
        if (listing) return sendLocal();
        listing = true;
        models.listLocal().then(
          (list) => send({ type: 'local', models: list }),
          (err: Error) => request.log.warn(`Could not list the model cache for the event stream: ${err.message}`),
        ).finally(() => (listing = false));
      }, LOCAL_DEBOUNCE_MS).unref();
    };
    stream.onEnd(models.onPull((pull) => send({ type: 'pull', pull })));
    stream.onEnd(models.onLocalChange(sendLocal));
    stream.onEnd(() => clearTimeout(localTimer));
  });
}
