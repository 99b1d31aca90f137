import { badRequest } from '../openai-error.js';

/**
 * Validation of OpenAI request bodies: what the embedded runtime accepts,
 * as plain functions that either return a typed request or throw a 400 that
 * names the offending field (the SDKs show `param` to the user).
 */

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface Sampling {
  maxTokens: number | null;
  temperature: number | null;
  topP: number | null;
  seed: number | null;
  stop: string[];
}

export interface ChatRequest extends Sampling {
  model: string;
  messages: ChatMessage[];
  stream: boolean;
  includeUsage: boolean;
}

export interface CompletionRequest extends Sampling {
  model: string;
  prompt: string;
  stream: boolean;
  includeUsage: boolean;
}

type Body = Record<string, unknown>;

function asObject(body: unknown): Body {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a JSON object.');
  return body as Body;
}

function modelOf(body: Body): string {
  if (typeof body.model !== 'string' || !body.model) throw badRequest('"model" is required: the id of the model to use (GET /v1/models lists it).', 'model');
  return body.model;
}

function optionalNumber(body: Body, name: string, min: number, max: number, integer = false): number | null {
  const value = body[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw badRequest(`"${name}" must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}.`, name);
  }
  return value;
}

function sampling(body: Body): Sampling {
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw badRequest('"n" must be 1: this runtime generates one choice per request.', 'n');
  const maxTokens = optionalNumber(body, 'max_completion_tokens', 1, 1_000_000, true) ?? optionalNumber(body, 'max_tokens', 1, 1_000_000, true);
  let stop: string[] = [];
  if (typeof body.stop === 'string') stop = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length <= 4 && body.stop.every((s) => typeof s === 'string' && s.length > 0)) stop = body.stop as string[];
  else if (body.stop !== undefined && body.stop !== null) throw badRequest('"stop" must be a string or a list of up to 4 strings.', 'stop');
  return {
    maxTokens,
    temperature: optionalNumber(body, 'temperature', 0, 2),
    topP: optionalNumber(body, 'top_p', 0, 1),
    seed: optionalNumber(body, 'seed', -(2 ** 53), 2 ** 53, true),
    stop,
  };
}

function streaming(body: Body): { stream: boolean; includeUsage: boolean } {
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw badRequest('"stream" must be true or false.', 'stream');
  const options = body.stream_options as Body | undefined | null;
  return { stream: body.stream === true, includeUsage: body.stream === true && !!options && typeof options === 'object' && options.include_usage === true };
}

function messageText(content: unknown, index: number): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        if (part && typeof part === 'object' && (part as Body).type === 'text' && typeof (part as Body).text === 'string') return (part as Body).text as string;
        throw badRequest(`messages[${index}].content[${j}]: only text parts are supported by this model.`, `messages[${index}].content`);
      })
      .join('');
  }
  throw badRequest(`messages[${index}].content must be a string or a list of text parts.`, `messages[${index}].content`);
}

export function parseChatRequest(raw: unknown): ChatRequest {
  const body = asObject(raw);
  const model = modelOf(body);
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw badRequest('"messages" must be a non-empty list of {role, content}.', 'messages');
  const messages = body.messages.map((m, i): ChatMessage => {
    if (!m || typeof m !== 'object') throw badRequest(`messages[${i}] must be an object with "role" and "content".`, `messages[${i}]`);
    const role = (m as Body).role;
    const content = messageText((m as Body).content, i);
    if (role === 'system' || role === 'developer') return { role: 'system', content };
    if (role === 'user' || role === 'assistant') return { role, content };
    throw badRequest(`messages[${i}].role must be one of system, developer, user, assistant.`, `messages[${i}].role`);
  });
  return { model, messages, ...sampling(body), ...streaming(body) };
}

export function parseCompletionRequest(raw: unknown): CompletionRequest {
  const body = asObject(raw);
  const model = modelOf(body);
  let prompt: string;
  if (typeof body.prompt === 'string') prompt = body.prompt;
  else if (Array.isArray(body.prompt) && body.prompt.length === 1 && typeof body.prompt[0] === 'string') prompt = body.prompt[0];
  else throw badRequest('"prompt" must be a string.', 'prompt');
  return { model, prompt, ...sampling(body), ...streaming(body) };
}
