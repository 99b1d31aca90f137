import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TokenCreated, TokenCreateRequest, TokenInfo } from '../../../shared/api.js';

const Scope = Type.Union([Type.Literal('admin'), Type.Literal('operate'), Type.Literal('read'), Type.Literal('inference')]);
const TokenInfoSchema = Type.Object({
  name: Type.String(),
  scope: Scope,
  created: Type.String(),
  lastUsed: Type.Union([Type.String(), Type.Null()]),
  lastUsedFrom: Type.Union([Type.String(), Type.Null()]),
  expires: Type.Union([Type.String(), Type.Null()]),
  note: Type.String(),
});

export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const { store, audit } = app.halo;

  app.get('/tokens', { config: { scope: 'admin' }, schema: { response: { 200: Type.Object({ tokens: Type.Array(TokenInfoSchema) }) } } }, async () => ({
    tokens: store.list() satisfies TokenInfo[],
  }));

  app.post<{ Body: TokenCreateRequest }>(
    '/tokens',
    {
      config: { scope: 'admin' },
      schema: {
        body: Type.Object(
          {
            name: Type.String({ maxLength: 200 }),
            scope: Type.Optional(Scope),
            expires: Type.Optional(Type.Union([Type.String({ maxLength: 20 }), Type.Null()])),
            note: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Intersect([TokenInfoSchema, Type.Object({ token: Type.String() })]) },
      },
    },
    async (request, reply): Promise<TokenCreated> => {
      const { record, token } = await store.create(request.body);
      // The token exists now and its secret is shown only in this answer: a refused audit line
      // is reported by the log (see app.ts), never thrown.
      audit.append({ event: 'token.created', token: record.name, address: request.clientAddress ?? undefined, detail: `scope ${record.scope}` });
      const { hash: _hash, ...info } = record;
      reply.code(201);
      return { ...info, token };
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/tokens/:name',
    { config: { scope: 'admin' }, schema: { params: Type.Object({ name: Type.String({ maxLength: 200 }) }), response: { 200: TokenInfoSchema } } },
    async (request) => {
      const info = await store.revoke(request.params.name);
      audit.append({ event: 'token.revoked', token: info.name, address: request.clientAddress ?? undefined });
      return info;
    },
  );
}
