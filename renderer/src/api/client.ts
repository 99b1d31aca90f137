import {
  API_PREFIX,
  API_TOKEN_STORAGE_KEY,
  type ApiError,
  type AuditEntry,
  type AuthSession,
  type ConnectionInfo,
  type Health,
  type HfSaveRequest,
  type HfStatus,
  type ModelCheck,
  type RemoteAccess,
  type RemoteAccessRequest,
  type TokenCreated,
  type TokenCreateRequest,
  type TokenInfo,
} from '../../../shared/api';
import type { MachineSnapshot, PullSummary } from '../../../shared/machine';
import type { LocalModelList, ModelDeleteResult, ModelDetails, ModelSearchResult, PullInfo, PullRequest } from '../../../shared/models';
import type { MetricPoint, Recipe, RecipeRequest, RunInfo, RunStartRequest } from '../../../shared/runs';
import type { OpenAiErrorBody, RunningModel, RunRequest, RuntimeLogEvent, ServingApiError, ServingStatus, StopRequest } from '../../../shared/serving';
import { ApiFailure, pullActionOf, type FailureCode } from './failure';
import { readEventStream, type ServerSentEvent } from './event-stream';

type KeyValueStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface ApiClientOptions {
  /** Defaults to the page's own fetch, looked up per call (so tests can replace it). */
  fetch?: typeof fetch;
  /** Where the API token lives; defaults to window.localStorage (the spec's key). */
  storage?: () => KeyValueStore | null;
  /** Origin of the backend; default: the page's origin (the backend serves the dashboard). */
  origin?: string;
}

/** Called when the backend refuses this browser's token (or asks for one). */
export type TokenRefusedHandler = (failure: ApiFailure, doing: string) => void;

interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  body?: unknown;
  /** What the user was doing, in words ("loading the API tokens"): the note shown if the token is refused. */
  doing: string;
  /**
   * A token to try instead of the stored one (a token test), or null for
   * none. Its 401 is the answer to the test, never a reason to redirect.
   */
  token?: string | null;
  signal?: AbortSignal;
  accept?: string;
  /** Where `path` lives: the dashboard's API by default, '' for the OpenAI API at /v1 (same gate, same token). */
  prefix?: string;
}

const API_TOKEN_PREFIX = 'hfk_';
// The server sends a keepalive every 15 s. After a sleep or a network change a
// dead connection never ends a read, so three missed keepalives count as a drop.
export const ACTIVITY_IDLE_MS = 45_000;
/** Five missed machine snapshots. */
export const MACHINE_IDLE_MS = 10_000;
export type MachineStreamEvent = { type: 'machine'; snapshot: MachineSnapshot } | { type: 'pulls'; pulls: PullSummary[] };

export type ApiClient = ReturnType<typeof createApiClient>;

/**
 * The one module that talks HTTP: it adds the bearer token, turns errors into
 * ApiFailure with the backend's code and words, reports refused tokens, and
 * reads server-sent events with fetch (EventSource cannot send a header, and a
 * token in a URL ends up in logs).
 */
export function createApiClient(options: ApiClientOptions = {}) {
  const doFetch: typeof fetch = (...args) => (options.fetch ?? globalThis.fetch)(...args);
  const storage = options.storage ?? (() => (typeof localStorage === 'undefined' ? null : localStorage));
  const origin = () => options.origin ?? (typeof location === 'undefined' ? '' : location.origin);
  let tokenRefused: TokenRefusedHandler = () => undefined;

  function storedToken(): string | null {
    try {
      return storage()?.getItem(API_TOKEN_STORAGE_KEY) || null;
    } catch {
      return null; // storage disabled: behave as "no token"
    }
  }

  async function send(path: string, call: CallOptions): Promise<Response> {
    const token = call.token === undefined ? storedToken() : call.token;
    const headers: Record<string, string> = { accept: call.accept ?? 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(`${origin()}${call.prefix ?? API_PREFIX}${path}`, {
        method: call.method ?? 'GET',
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
        signal: call.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (err) {
      if (call.signal?.aborted) throw err;
      throw new ApiFailure('network', `Nothing answered at ${origin() || 'this address'}. Check that Halo Forge is running on the workstation and that the address is right.`);
    }
    if (response.ok) return response;
    const failure = await failureFrom(response);
    if (failure.tokenRefused && call.token === undefined) tokenRefused(failure, call.doing);
    throw failure;
  }

  async function json<T>(path: string, call: CallOptions): Promise<T> {
    const response = await send(path, call);
    return (await response.json()) as T;
  }

  /**
   * Follows a server-sent event stream until it ends (resolves) or fails
   * (rejects), also when nothing, not even a keepalive, arrives for
   * ACTIVITY_IDLE_MS. `onOpen` fires once the server has accepted the stream.
   * A malformed event is skipped; the next one still counts.
   */
  async function follow(path: string, doing: string, name: string, opts: { signal: AbortSignal; onOpen?: () => void }, onEvent: (event: ServerSentEvent) => void, idleMs = ACTIVITY_IDLE_MS): Promise<void> {
    const connection = new AbortController();
    const stop = () => connection.abort();
    if (opts.signal.aborted) stop();
    opts.signal.addEventListener('abort', stop, { once: true });
    let silent = false;
    let watchdog: ReturnType<typeof setTimeout> | undefined;
    const heardFrom = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        silent = true;
        connection.abort();
      }, idleMs);
    };
    try {
      heardFrom();
      const response = await send(path, { doing, accept: 'text/event-stream', signal: connection.signal });
      if (!response.body) throw new ApiFailure('http', `The ${name} came back empty.`, response.status);
      opts.onOpen?.();
      await readEventStream(
        response.body,
        (event) => {
          try {
            onEvent(event);
          } catch {
            // skipped, see above
          }
        },
        connection.signal,
        heardFrom,
      );
    } catch (err) {
      if (!silent) throw err;
    } finally {
      clearTimeout(watchdog);
      opts.signal.removeEventListener('abort', stop);
    }
    if (silent) throw new ApiFailure('network', `The ${name} went silent for ${idleMs / 1000} s; reconnecting.`);
  }

  return {
    onTokenRefused(handler: TokenRefusedHandler): void {
      tokenRefused = handler;
    },

    storedToken,
    hasStoredToken: () => storedToken() !== null,
    storeToken(token: string): void {
      storage()?.setItem(API_TOKEN_STORAGE_KEY, token.trim());
    },
    forgetToken(): void {
      storage()?.removeItem(API_TOKEN_STORAGE_KEY);
    },

    /** Checks a pasted token against /health (and learns its name) without storing it. */
    async testToken(pasted: string): Promise<{ health: Health; session: AuthSession }> {
      const token = pasted.trim();
      if (/^hf_/.test(token)) {
        throw new ApiFailure('not_a_token', 'This is a Hugging Face token (hf_…). Paste it under Hugging Face access instead; it is never kept in the browser.');
      }
      if (!token.startsWith(API_TOKEN_PREFIX)) {
        throw new ApiFailure('not_a_token', `Halo Forge API tokens start with "${API_TOKEN_PREFIX}". Create one on the workstation with "halo-forge token create NAME".`);
      }
      const health = await json<Health>('/health', { token, doing: 'testing a token' });
      const session = await json<AuthSession>('/auth/session', { token, doing: 'testing a token' });
      return { health, session };
    },

    health: () => json<Health>('/health', { doing: 'checking the workstation' }),
    /** With `token: null` the session as an anonymous caller: "token needed" or "not needed". */
    session: (token?: null) => json<AuthSession>('/auth/session', { doing: 'checking the connection', token }),
    connection: () => json<ConnectionInfo>('/connection', { doing: 'loading the connection details' }),
    setRemoteAccess: (request: RemoteAccessRequest) =>
      json<RemoteAccess>('/connection/remote', { method: 'PUT', body: request, doing: request.enabled ? 'turning remote access on' : 'turning remote access off' }),

    listTokens: async () => (await json<{ tokens: TokenInfo[] }>('/tokens', { doing: 'loading the API tokens' })).tokens,
    createToken: (request: TokenCreateRequest) => json<TokenCreated>('/tokens', { method: 'POST', body: request, doing: 'creating an API token' }),
    revokeToken: (name: string) => json<TokenInfo>(`/tokens/${encodeURIComponent(name)}`, { method: 'DELETE', doing: `revoking the token “${name}”` }),

    listRuns: async () => (await json<{ runs: RunInfo[] }>('/runs', { doing: 'loading the runs' })).runs,
    startRun: (request: RunStartRequest) => json<RunInfo>('/runs', { method: 'POST', body: request, doing: 'starting a run' }),
    stopRun: (id: string) => json<RunInfo>(`/runs/${encodeURIComponent(id)}/stop`, { method: 'POST', doing: 'stopping a run' }),
    runMetrics: async (id: string) => (await json<{ points: MetricPoint[] }>(`/runs/${encodeURIComponent(id)}/metrics`, { doing: 'loading a run’s metrics' })).points,
    listRecipes: async () => (await json<{ recipes: Recipe[] }>('/runs/recipes', { doing: 'loading the recipes' })).recipes,
    saveRunAsRecipe: (id: string, name: string) => json<Recipe>(`/runs/${encodeURIComponent(id)}/recipe`, { method: 'POST', body: { name }, doing: `saving the recipe “${name}”` }),
    createRecipe: (request: RecipeRequest) => json<Recipe>('/runs/recipes', { method: 'POST', body: request, doing: `saving the recipe “${request.name}”` }),
    deleteRecipe: (name: string) => json<Recipe>(`/runs/recipes/${encodeURIComponent(name)}`, { method: 'DELETE', doing: `deleting the recipe “${name}”` }),
    startRecipe: (name: string) => json<RunInfo>(`/runs/recipes/${encodeURIComponent(name)}/start`, { method: 'POST', body: {}, doing: `starting the recipe “${name}”` }),
    /** Follows one run: its state, the tail of its log then live output, every metric point; resolves after `end` (the server closes the stream). */
    async followRun(id: string, handlers: { onRun: (run: RunInfo) => void; onLog: (text: string) => void; onMetric: (point: MetricPoint) => void; onEnd: (run: RunInfo) => void }, opts: { signal: AbortSignal; onOpen?: () => void }): Promise<void> {
      await follow(`/runs/${encodeURIComponent(id)}/events`, 'following a run', 'run’s event stream', opts, (event) => {
        if (event.event === 'log') handlers.onLog((JSON.parse(event.data) as { text: string }).text);
        else if (event.event === 'metric') handlers.onMetric(JSON.parse(event.data) as MetricPoint);
        else if (event.event === 'run') handlers.onRun(JSON.parse(event.data) as RunInfo);
        else if (event.event === 'end') handlers.onEnd(JSON.parse(event.data) as RunInfo);
      });
    },

    recentActivity: async (limit = 25) => (await json<{ entries: AuditEntry[] }>(`/audit?limit=${limit}`, { doing: 'loading recent activity' })).entries,
    /**
     * Follows the live audit stream until it ends (resolves) or fails (rejects),
     * also when nothing, not even a keepalive, arrives for ACTIVITY_IDLE_MS.
     * `onOpen` fires once the server has accepted the stream.
     */
    async followActivity(onEntry: (entry: AuditEntry) => void, opts: { signal: AbortSignal; onOpen?: () => void }): Promise<void> {
      await follow('/audit/stream', 'following recent activity', 'activity stream', opts, (event) => {
        if (event.event === 'audit') onEntry(JSON.parse(event.data) as AuditEntry);
      });
    },

    machine: () => json<MachineSnapshot>('/machine', { doing: 'reading the workstation' }),
    /**
     * Follows the machine stream until it ends (resolves) or fails (rejects).
     * A snapshot arrives every ~2 s, so MACHINE_IDLE_MS of silence means the
     * connection is gone even when no error says so.
     */
    async followMachine(onEvent: (event: MachineStreamEvent) => void, opts: { signal: AbortSignal; onOpen?: () => void }): Promise<void> {
      await follow(
        '/machine/events',
        'following the workstation',
        'machine stream',
        opts,
        (event) => {
          if (event.event === 'machine') onEvent({ type: 'machine', snapshot: JSON.parse(event.data) as MachineSnapshot });
          else if (event.event === 'pulls') onEvent({ type: 'pulls', pulls: JSON.parse(event.data) as PullSummary[] });
        },
        MACHINE_IDLE_MS,
      );
    },

    hfStatus: () => json<HfStatus>('/huggingface/status', { doing: 'loading Hugging Face access' }),
    hfSave: (request: HfSaveRequest) => json<HfStatus>('/huggingface/token', { method: 'POST', body: request, doing: 'saving a Hugging Face token' }),
    hfClear: () => json<HfStatus>('/huggingface/token', { method: 'DELETE', doing: 'clearing the Hugging Face token' }),
    hfVerify: () => json<HfStatus>('/huggingface/verify', { method: 'POST', doing: 'verifying the Hugging Face token' }),
    searchModels: (query: string) => json<ModelSearchResult>(`/models/search?q=${encodeURIComponent(query)}`, { doing: `searching the Hub for “${query}”` }),
    modelDetails: (repo: string, revision?: string) =>
      json<ModelDetails>(`/models/hub/${repoPath(repo)}${revision ? `?revision=${encodeURIComponent(revision)}` : ''}`, { doing: `loading ${repo}` }),
    localModels: () => json<LocalModelList>('/models/local', { doing: 'listing the models on the workstation' }),
    listPulls: async () => (await json<{ pulls: PullInfo[] }>('/models/pulls', { doing: 'loading the pulls' })).pulls,
    startPull: (request: PullRequest) => json<PullInfo>('/models/pulls', { method: 'POST', body: request, doing: `pulling ${request.repo}` }),
    pullAction: (id: string, action: 'pause' | 'resume' | 'cancel') => json<PullInfo>(`/models/pulls/${encodeURIComponent(id)}/${action}`, { method: 'POST', doing: `${action === 'pause' ? 'pausing' : action === 'resume' ? 'resuming' : 'cancelling'} a pull` }),
    deleteModel: (repo: string, revision?: string) =>
      json<ModelDeleteResult>(`/models/local/${repoPath(repo)}${revision ? `?revision=${encodeURIComponent(revision)}` : ''}`, { method: 'DELETE', doing: `deleting ${repo}` }),
    /** Follows pull progress and cache changes; same contract as followActivity. */
    async followModels(handlers: { onPull: (pull: PullInfo) => void; onLocal: (list: LocalModelList) => void }, opts: { signal: AbortSignal; onOpen?: () => void }): Promise<void> {
      await follow('/models/events', 'following model pulls', 'models stream', opts, (event) => {
        if (event.event === 'pull') handlers.onPull(JSON.parse(event.data) as PullInfo);
        else if (event.event === 'local') handlers.onLocal(JSON.parse(event.data) as LocalModelList);
      });
    },
    servingStatus: () => json<ServingStatus>('/serving', { doing: 'loading the running models' }),
    runModel: (request: RunRequest) => json<RunningModel>('/serving/run', { method: 'POST', body: request, doing: `running ${request.model}` }),
    stopModel: (request: StopRequest) => json<RunningModel>('/serving/stop', { method: 'POST', body: request, doing: `stopping ${request.model}` }),
    /** The whole serving status on every change; same contract as followActivity. */
    async followServing(onStatus: (status: ServingStatus) => void, opts: { signal: AbortSignal; onOpen?: () => void }): Promise<void> {
      await follow('/serving/events', 'following the running models', 'serving stream', opts, (event) => {
        if (event.event !== 'status') return;
        // The contract's route list says the data is the status, its ServingEvent type wraps it: read both.
        const data = JSON.parse(event.data) as ServingStatus | { status: ServingStatus };
        onStatus('status' in data ? data.status : data);
      });
    },
    /** A runtime's log (redacted by the backend): its tail, then live lines. */
    async followRuntimeLog(model: string, onText: (text: string) => void, opts: { signal: AbortSignal; onOpen?: () => void }): Promise<void> {
      await follow(`/serving/log?model=${encodeURIComponent(model)}`, `following the log of ${model}`, 'runtime log', opts, (event) => {
        if (event.event === 'log') onText((JSON.parse(event.data) as RuntimeLogEvent).text);
      });
    },
    /** The models /v1 serves (running, and downloaded ones it loads just in time): what an inference token may list. */
    v1Models: async () => (await json<{ data: { id: string; state?: string }[] }>('/v1/models', { prefix: '', doing: 'listing the models' })).data.map((m) => ({ model: m.id, loaded: m.state === 'loaded' })),
    /**
     * Streams a chat completion from /v1, with the stored token as on
     * /api/public. Resolves with the response body's event stream; an abort
     * of `signal` closes the connection, which cancels the generation.
     */
    async chatCompletionStream(request: ChatCompletionRequest, onData: (data: string) => void, signal: AbortSignal): Promise<void> {
      const response = await send('/v1/chat/completions', {
        prefix: '',
        method: 'POST',
        body: { ...request, stream: true },
        accept: 'text/event-stream',
        signal,
        doing: `chatting with ${request.model}`,
      });
      if (!response.body) throw new ApiFailure('http', 'The answer came back empty.', response.status);
      await readEventStream(response.body, (event) => onData(event.data), signal);
    },
    checkModel: (model: string) => json<ModelCheck>('/huggingface/check-model', { method: 'POST', body: { model }, doing: `checking access to ${model}` }),
  };
}

/** `org/name` as two path segments, each encoded: a name never becomes a path of its own. */
function repoPath(repo: string): string {
  return repo.split('/').map(encodeURIComponent).join('/');
}

async function failureFrom(response: Response): Promise<ApiFailure> {
  const retryAfter = Number(response.headers.get('retry-after')) || null;
  let body: Partial<ApiError & ServingApiError> | Partial<OpenAiErrorBody> | null = null;
  try {
    body = (await response.json()) as Partial<ApiError & ServingApiError> | Partial<OpenAiErrorBody>;
  } catch {
    body = null;
  }
  if (body && typeof body.error === 'string' && 'message' in body && typeof body.message === 'string') {
    return new ApiFailure(body.error, body.message, response.status, retryAfter, 'access' in body ? (body.access ?? null) : null, 'action' in body ? pullActionOf(body.action) : null);
  }
  // /v1 answers in OpenAI's shape, so that SDKs show its errors.
  if (body && typeof body.error === 'object' && body.error && typeof body.error.message === 'string') {
    const { code, message, access } = body.error;
    return new ApiFailure((code ?? 'http') as FailureCode, message, response.status, retryAfter, access ?? null);
  }
  return new ApiFailure('http', `The workstation answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`, response.status, retryAfter);
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  max_tokens?: number;
  temperature?: number;
}

/** The dashboard's client: same origin, token from localStorage. */
export const api = createApiClient();
