import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { eventStreams } from './event-stream.js';

export async function auditRoutes(app: FastifyInstance): Promise<void> {
  const { audit } = app.halo;
  const openStream = eventStreams(app);

  app.get<{ Querystring: { limit?: string } }>(
    '/audit',
    {
      config: { scope: 'admin' },
      // Query values are text and nothing coerces them: the pattern is the range.
      schema: { querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: 'a whole number from 1 to 1000' })) }) },
    },
    async (request) => ({ entries: audit.recent(request.query.limit === undefined ? 100 : Number(request.query.limit)) }),
  );

  app.get('/audit/stream', { config: { scope: 'admin' } }, (request, reply) => {
    const stream = openStream(request, reply, 'halo-forge audit stream');
    if (stream) stream.onEnd(audit.subscribe((entry) => stream.send('audit', entry)));
  });
}
