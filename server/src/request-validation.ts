// How request bodies, parameters and query strings are checked, and what a
// client is told when they fail. Pure: the message is built from the schema
// error alone, never from the value sent (a body may hold a token).

/** The part of an Ajv error this module reads (Ajv's ErrorObject, without depending on Ajv). */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message?: string;
  parentSchema?: { description?: string };
}

/**
 * Ajv as Fastify runs it, minus two defaults that hide a client's mistake:
 * `removeAdditional` dropped a misspelt field without a word (`{"name":"ci",
 * "scop":"read"}` made an admin token), and `coerceTypes` turned a wrong type
 * into a value nobody sent (`{"enabled":1}` switched remote access on,
 * `{"enabled":null}` off). Every body schema says `additionalProperties:
 * false`, so an unknown field is refused by name. Query strings are text by
 * nature: a route that wants a number there declares a pattern and converts it.
 * `verbose` gives the formatter a schema's description; the value itself is never read.
 */
export const AJV_OPTIONS = { removeAdditional: false, coerceTypes: false, allErrors: false, verbose: true } as const;

/**
 * Refuses, when a route is declared, a body schema that lets unknown fields
 * through: with `removeAdditional` off they would reach the handler instead
 * of being refused by name. Checks nested objects too.
 */
export function openBodyProblem(schema: unknown, path = 'body'): string | null {
  if (!schema || typeof schema !== 'object') return null;
  const s = schema as { type?: unknown; properties?: Record<string, unknown>; additionalProperties?: unknown; anyOf?: unknown[]; oneOf?: unknown[]; items?: unknown };
  if (s.type === 'object' && s.additionalProperties !== false) return `${path} must say additionalProperties: false`;
  for (const [name, child] of Object.entries(s.properties ?? {})) {
    const problem = openBodyProblem(child, `${path}.${name}`);
    if (problem) return problem;
  }
  // Not allOf: each part of an intersection must allow the others' fields.
  for (const child of [...(s.anyOf ?? []), ...(s.oneOf ?? []), ...(s.items ? [s.items] : [])]) {
    const problem = openBodyProblem(child, path);
    if (problem) return problem;
  }
  return null;
}

const ARTICLE: Record<string, string> = {
  boolean: 'a boolean',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  object: 'an object',
  array: 'a list',
  null: 'null',
};

/** A field name is the client's own text: shown short and printable only (the caller still redacts the sentence). */
function fieldPath(instancePath: string, child?: unknown): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (typeof child === 'string') parts.push(child);
  const path = parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  const printable = path.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 60 ? `${printable.slice(0, 40)}…` : printable;
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/** One sentence that names the field and what it must be, from the first failed rule. */
export function validationMessage(errors: readonly SchemaError[], part: string): string {
  const first = errors[0];
  if (!first) return `The ${part} is not valid.`;
  const field = fieldPath(first.instancePath);
  const subject = field ? `"${field}"` : part === 'body' ? 'The request body' : `The ${part}`;

  // A union (TypeBox's Union, Literal lists, Nullable) reports each branch, then anyOf.
  const union = errors.find((e) => e.keyword === 'anyOf' && e.instancePath === first.instancePath);
  if (union) {
    const branches = errors.filter((e) => e !== union && e.instancePath === first.instancePath && e.schemaPath.startsWith(union.schemaPath));
    if (branches.length > 0 && branches.every((e) => e.keyword === 'const')) {
      return `${subject} must be one of ${branches.map((e) => String(e.params.allowedValue)).join(', ')}`;
    }
    const matchedType = branches.find((e) => e.keyword !== 'type');
    if (!matchedType) return `${subject} must be ${orList(branches.map((e) => ARTICLE[String(e.params.type)] ?? String(e.params.type)))}`;
    return validationMessage([matchedType], part);
  }

  switch (first.keyword) {
    case 'additionalProperties':
      return `unknown field "${fieldPath(first.instancePath, first.params.additionalProperty)}"`;
    case 'required':
      return `missing field "${fieldPath(first.instancePath, first.params.missingProperty)}"`;
    case 'type':
      if (!field && part === 'body') return 'The request body must be a JSON object';
      return `${subject} must be ${ARTICLE[String(first.params.type)] ?? String(first.params.type)}`;
    case 'const':
      return `${subject} must be ${String(first.params.allowedValue)}`;
    case 'enum':
      return `${subject} must be one of ${(first.params.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'minLength':
      return first.params.limit === 1 ? `${subject} must not be empty` : `${subject} must be at least ${String(first.params.limit)} characters`;
    case 'maxLength':
      return `${subject} must be at most ${String(first.params.limit)} characters`;
    case 'minimum':
      return `${subject} must be at least ${String(first.params.limit)}`;
    case 'maximum':
      return `${subject} must be at most ${String(first.params.limit)}`;
    case 'pattern':
      return `${subject} must be ${first.parentSchema?.description ?? 'in the documented form'}`;
    default:
      return `${subject} ${first.message ?? 'is not valid'}`;
  }
}
