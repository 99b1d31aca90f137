import type { FastifyInstance } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import { HF_SOURCES, MODEL_ACCESS, type HfSaveRequest, type HfStatus, type ModelCheck, type ModelCheckRequest } from '../../../shared/api.js';

const Nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);

// Response schemas list every field a client may see: serialization drops
// anything else, so a secret cannot leak through an extra property.
const HfStatusSchema = Type.Object({
  present: Type.Boolean(),
  source: Type.Union(HF_SOURCES.map((s) => Type.Literal(s))),
  verified: Type.Boolean(),
  username: Nullable(Type.String()),
  tokenName: Nullable(Type.String()),
  role: Nullable(Type.Union(['read', 'write', 'fineGrained', 'admin'].map((r) => Type.Literal(r)))),
  canClear: Type.Boolean(),
  keyring: Type.Object({ available: Type.Boolean(), reason: Nullable(Type.String()) }),
  checkedAt: Nullable(Type.String()),
  message: Type.String(),
  warnings: Type.Array(Type.String()),
  hfCacheAvailable: Type.Boolean(),
});

const ModelCheckSchema = Type.Object({
  model: Type.String(),
  access: Type.Union(MODEL_ACCESS.map((a) => Type.Literal(a))),
  gated: Type.Union([Type.Literal(false), Type.Literal('auto'), Type.Literal('manual'), Type.Null()]),
  url: Type.String(),
  message: Type.String(),
});

const ApiErrorSchema = Type.Object({ error: Type.String(), message: Type.String() });
const errors = { '4xx': ApiErrorSchema, '5xx': ApiErrorSchema };

export async function huggingfaceRoutes(app: FastifyInstance): Promise<void> {
  const { hf } = app.halo;

  app.get('/huggingface/status', { schema: { response: { 200: HfStatusSchema, ...errors } } }, async (): Promise<HfStatus> => hf.status());

  app.post<{ Body: HfSaveRequest }>(
    '/huggingface/token',
    {
      config: { scope: 'admin' },
      schema: {
        body: Type.Object(
          {
            token: Type.Optional(Type.String({ maxLength: 512 })),
            verify: Type.Optional(Type.Boolean()),
            adoptHfCache: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: HfStatusSchema, ...errors },
      },
    },
    async (request): Promise<HfStatus> => {
      const { token, verify = true, adoptHfCache = false } = request.body;
      return hf.save({ token, verify, adoptHfCache }, { address: request.clientAddress ?? undefined, via: 'api' });
    },
  );

  app.delete(
    '/huggingface/token',
    { config: { scope: 'admin' }, schema: { response: { 200: HfStatusSchema, ...errors } } },
    async (request): Promise<HfStatus> => hf.clear({ address: request.clientAddress ?? undefined, via: 'api' }),
  );

  app.post('/huggingface/verify', { config: { scope: 'admin' }, schema: { response: { 200: HfStatusSchema, ...errors } } }, async (): Promise<HfStatus> => hf.verify());

  app.post<{ Body: ModelCheckRequest }>(
    '/huggingface/check-model',
    {
      schema: {
        body: Type.Object({ model: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
        response: { 200: ModelCheckSchema, ...errors },
      },
    },
    async (request): Promise<ModelCheck> => hf.checkModel(request.body.model.trim()),
  );
}
