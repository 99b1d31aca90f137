// The Models API's response schemas, one per shared type. Serialization drops
// any field not listed here, so an engine that grew a field (a signed CDN URL,
// a header) cannot leak it to a client by accident.
import { Type, type TSchema } from '@sinclair/typebox';
import { PULL_STATES } from '../../../shared/models.js';

const Nullable = (schema: TSchema) => Type.Union([schema, Type.Null()]);
const Gated = Type.Union([Type.Literal(false), Type.Literal('auto'), Type.Literal('manual')]);
const literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const ApiErrorSchema = Type.Object({ error: Type.String(), message: Type.String() });
export const errorResponses = { '4xx': ApiErrorSchema, '5xx': ApiErrorSchema };

export const HubModelSummarySchema = Type.Object({
  id: Type.String(),
  downloads: Nullable(Type.Number()),
  likes: Nullable(Type.Number()),
  gated: Gated,
  private: Type.Boolean(),
  updatedAt: Nullable(Type.String()),
  pipelineTag: Nullable(Type.String()),
  library: Nullable(Type.String()),
});

export const ModelSearchResultSchema = Type.Object({ query: Type.String(), models: Type.Array(HubModelSummarySchema) });

const RepoFileSchema = Type.Object({ path: Type.String(), size: Type.Number(), gitOid: Type.String(), sha256: Nullable(Type.String()) });

const FileGroupSchema = Type.Object({
  kind: literals(['gguf', 'safetensors', 'pytorch', 'other']),
  label: Type.String(),
  files: Type.Array(Type.String()),
  size: Type.Number(),
  include: Type.Array(Type.String()),
});

const LocalRevisionSchema = Type.Object({
  commit: Type.String(),
  refs: Type.Array(Type.String()),
  files: Type.Array(Type.Object({ path: Type.String(), size: Type.Number() })),
  size: Type.Number(),
  lastModified: Type.String(),
});

export const LocalModelSchema = Type.Object({
  id: Type.String(),
  kind: literals(['model', 'dataset', 'space']),
  path: Type.String(),
  size: Type.Number(),
  revisions: Type.Array(LocalRevisionSchema),
  lastPulled: Nullable(Type.String()),
  incomplete: Type.Boolean(),
});

export const LocalModelListSchema = Type.Object({ cacheDir: Type.String(), freeBytes: Nullable(Type.Number()), models: Type.Array(LocalModelSchema) });

export const ModelDetailsSchema = Type.Object({
  id: Type.String(),
  commit: Type.String(),
  revision: Type.String(),
  gated: Gated,
  private: Type.Boolean(),
  url: Type.String(),
  files: Type.Array(RepoFileSchema),
  groups: Type.Array(FileGroupSchema),
  access: Type.Object({ state: literals(['granted', 'gated', 'pending', 'not_found', 'unauthorized', 'unreachable']), message: Type.String() }),
  local: Nullable(LocalModelSchema),
});

const PullActionSchema = Type.Object({
  kind: literals(['accept-license', 'connect-hf', 'check-name', 'free-space', 'retry', 'fix-permissions']),
  label: Type.String(),
  url: Type.Optional(Type.String()),
});

export const PullInfoSchema = Type.Object({
  id: Type.String(),
  repo: Type.String(),
  revision: Type.String(),
  commit: Nullable(Type.String()),
  include: Type.Array(Type.String()),
  exclude: Type.Array(Type.String()),
  state: literals(PULL_STATES),
  owner: literals(['server', 'cli']),
  bytesTotal: Type.Number(),
  bytesDone: Type.Number(),
  rate: Type.Number(),
  etaSeconds: Nullable(Type.Number()),
  files: Type.Array(
    Type.Object({ path: Type.String(), size: Type.Number(), received: Type.Number(), state: literals(['pending', 'downloading', 'verifying', 'done', 'failed']) }),
  ),
  startedAt: Type.String(),
  finishedAt: Nullable(Type.String()),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String(), action: Nullable(PullActionSchema) })),
});

export const PullListSchema = Type.Object({ pulls: Type.Array(PullInfoSchema) });

export const ModelDeleteResultSchema = Type.Object({ repo: Type.String(), removedRevisions: Type.Array(Type.String()), freedBytes: Type.Number() });

// Request shapes. Lengths are generous for real names and globs, small enough
// that nobody posts a megabyte of patterns.
const Glob = Type.String({ minLength: 1, maxLength: 200 });
const Revision = Type.String({ minLength: 1, maxLength: 200 });

export const PullRequestSchema = Type.Object(
  {
    repo: Type.String({ minLength: 1, maxLength: 300 }),
    revision: Type.Optional(Revision),
    include: Type.Optional(Type.Array(Glob, { maxItems: 50 })),
    exclude: Type.Optional(Type.Array(Glob, { maxItems: 50 })),
  },
  { additionalProperties: false },
);

/** A repo id's two halves, as Hub names allow: letters, digits, `-`, `_`, `.`. */
const RepoPart = Type.String({ minLength: 1, maxLength: 96, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' });
export const RepoParamsSchema = Type.Object({ org: RepoPart, name: RepoPart });
export const RevisionQuerySchema = Type.Object({ revision: Type.Optional(Revision) }, { additionalProperties: false });
export const SearchQuerySchema = Type.Object(
  // Query values are not coerced (the gate's strict Ajv): the limit is read as digits.
  { q: Type.String({ minLength: 1, maxLength: 300 }), limit: Type.Optional(Type.String({ pattern: '^(?:[1-9][0-9]?|100)$', description: 'a whole number from 1 to 100' })) },
  { additionalProperties: false },
);
export const PullParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' }) });
