// A stand-in for the Hugging Face Hub, for tests that must run offline.
// Select it with HF_ENDPOINT=<url>. It answers what halo-forge asks the Hub,
// with the real status codes, X-Error-Code / X-Error-Message headers and
// JSON bodies: whoami-v2, model info, the auth check, files under /resolve/,
// 401/403/404 and 429 with Retry-After. Imports only node: modules, so both
// the server tests (vitest) and the dashboard tests (Playwright) can use it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { startFakeHubFiles, type FakeHubFiles, type FakeRepoSpec, type FileRouteContext } from './fake-hub-files.js';

export type FakeHubRole = 'read' | 'write' | 'admin' | 'fineGrained';

export interface FakeHubToken {
  user: string;
  displayName: string;
  role: FakeHubRole;
  /** For fine-grained tokens: the scoped permissions, e.g. ["repo.content.read"]. */
  permissions?: string[];
}

export const FAKE_HUB_USER = 'halo-tester';
export const FAKE_HUB_OWNER = 'halo-owner';

/** Tokens the fake Hub knows; `unknown` has a valid shape but is refused like a revoked token. */
export const FAKE_HUB_TOKENS = {
  read: 'hf_FakeHubReadTokenForHaloForgeTests0001',
  write: 'hf_FakeHubWriteTokenForHaloForgeTests001',
  admin: 'hf_FakeHubAdminTokenForHaloForgeTests001',
  fineGrainedRead: 'hf_FakeHubFineReadTokenForHaloForgeTest1',
  fineGrainedWrite: 'hf_FakeHubFineWriteTokenForHaloForgeTes1',
  owner: 'hf_FakeHubOwnerTokenForHaloForgeTests001',
  unknown: 'hf_FakeHubUnknownTokenForHaloForgeTests01',
} as const;

export const FAKE_HUB_MODELS = {
  /** Public, not gated. */
  open: 'openai-community/gpt2',
  /** Gated with automatic approval: any valid token has access. */
  gatedAuto: 'halo-test/gated-auto',
  /** Gated with manual approval: nobody has accepted its license unless grant() says so. */
  gatedManual: 'meta-llama/Llama-3.1-8B',
  /** Gated with manual approval: every request is still awaiting review. */
  gatedPending: 'halo-test/gated-pending',
  /** Private, owned by FAKE_HUB_OWNER. */
  private: 'halo-test/private-model',
  /** Does not exist. */
  missing: 'halo-test/no-such-model',
} as const;

export interface FakeHubRequest {
  method: string;
  path: string;
  /** The bearer token sent, if any (kept in the test's memory only). */
  token: string | null;
}

export interface FakeHub {
  url: string;
  requests: FakeHubRequest[];
  /** Teach the Hub a token; by default a read token of FAKE_HUB_USER. */
  addToken(token: string, info?: Partial<FakeHubToken>): void;
  /** Record that `user` accepted the license of a manually gated model. */
  grant(model: string, user?: string): void;
  /** Answer every request with 429 and Retry-After until called with null. */
  rateLimit(retryAfterSeconds: number | null): void;
  /** Drop every connection without an answer, as an unreachable host would. */
  setOffline(offline: boolean): void;
  /** Answer the auth-check route with a bare 404, as a mirror without it would; access is then read from /resolve/. */
  setAuthCheck(available: boolean): void;
  /** Repos with files, the CDN they redirect to, fault injection and byte counters (fake-hub-files.ts). */
  files: FakeHubFiles;
  /** Adds a repo with files (gated/private as given): listed, searchable, downloadable. */
  addRepo(spec: FakeRepoSpec): void;
  /** Undo grant(), rateLimit(), setOffline(), setAuthCheck() and misbehave(), for a hub shared by several tests; added tokens stay. */
  reset(): void;
  /** Make the Hub misbehave as a broken mirror or a careless one might (see FakeHubMisbehaviour); null to stop. */
  misbehave(how: FakeHubMisbehaviour | null): void;
  close(): Promise<void>;
}

/**
 * Ways a Hub (a mirror, a proxy, a future Hub) can answer that halo-forge
 * must survive without leaking or misreading anything.
 */
export interface FakeHubMisbehaviour {
  /**
   * Refuse every request that carries a token with 401, echoing the token in
   * the error body and X-Error-Message, in this form: upper-cased, base64,
   * base64url, percent-encoded, or inside a longer base64 text (a "Basic"
   * credential of "user:token").
   */
  echoToken?: 'upper' | 'base64' | 'base64url' | 'percent' | 'basic';
  /** Answer every request 200 with a body that is not JSON: an HTML page (a captive portal), or JSON-typed garbage. */
  notJson?: 'html' | 'malformed';
}

/** The token as a misbehaving Hub echoes it. */
export function echoedToken(token: string, form: NonNullable<FakeHubMisbehaviour['echoToken']>): string {
  switch (form) {
    case 'upper':
      return token.toUpperCase();
    case 'base64':
      return Buffer.from(token).toString('base64');
    case 'base64url':
      return Buffer.from(token).toString('base64url');
    case 'percent':
      return [...token].map((c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');
    case 'basic':
      return `Basic ${Buffer.from(`${FAKE_HUB_USER}:${token}`).toString('base64')}`;
  }
}

/** Answers for a misbehaving Hub; false when it behaves on this request. */
function misbehaviour(how: FakeHubMisbehaviour | null, res: ServerResponse, token: string | null): boolean {
  if (how?.notJson === 'html') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<html><body>Please sign in to the guest network.</body></html>');
    return true;
  }
  if (how?.notJson === 'malformed') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"gated": false, "id": ');
    return true;
  }
  if (how?.echoToken && token) {
    const echo = echoedToken(token, how.echoToken);
    send(res, 401, { error: `Invalid credentials: ${echo} is not a valid token` }, { 'X-Error-Message': `Invalid credentials ${echo}` });
    return true;
  }
  return false;
}

interface ModelRecord {
  id: string;
  author: string;
  gated: false | 'auto' | 'manual';
  private: boolean;
  /** Manual gating: who has been granted access, who is waiting. */
  granted: Set<string>;
  pending: 'everyone' | 'nobody';
}

function defaultModels(): Map<string, ModelRecord> {
  const make = (id: string, gated: ModelRecord['gated'], isPrivate = false, pending: ModelRecord['pending'] = 'nobody'): ModelRecord => ({
    id,
    author: id.split('/')[0]!,
    gated,
    private: isPrivate,
    granted: new Set(),
    pending,
  });
  const list = [
    make(FAKE_HUB_MODELS.open, false),
    make(FAKE_HUB_MODELS.gatedAuto, 'auto'),
    make(FAKE_HUB_MODELS.gatedManual, 'manual'),
    make(FAKE_HUB_MODELS.gatedPending, 'manual', false, 'everyone'),
    make(FAKE_HUB_MODELS.private, false, true),
  ];
  return new Map(list.map((m) => [m.id, m]));
}

function defaultTokens(): Map<string, FakeHubToken> {
  return new Map<string, FakeHubToken>([
    [FAKE_HUB_TOKENS.read, { user: FAKE_HUB_USER, displayName: 'halo-read', role: 'read' }],
    [FAKE_HUB_TOKENS.write, { user: FAKE_HUB_USER, displayName: 'halo-write', role: 'write' }],
    [FAKE_HUB_TOKENS.admin, { user: FAKE_HUB_USER, displayName: 'halo-admin', role: 'admin' }],
    [FAKE_HUB_TOKENS.fineGrainedRead, { user: FAKE_HUB_USER, displayName: 'halo-fine-read', role: 'fineGrained', permissions: ['repo.content.read', 'gated-repos.read'] }],
    [FAKE_HUB_TOKENS.fineGrainedWrite, { user: FAKE_HUB_USER, displayName: 'halo-fine-write', role: 'fineGrained', permissions: ['repo.content.read', 'repo.write'] }],
    [FAKE_HUB_TOKENS.owner, { user: FAKE_HUB_OWNER, displayName: 'owner-read', role: 'read' }],
  ]);
}

const INVALID_CREDENTIALS = 'Invalid credentials in Authorization header';

export async function startFakeHub(): Promise<FakeHub> {
  const tokens = defaultTokens();
  const models = defaultModels();
  const requests: FakeHubRequest[] = [];
  let retryAfter: number | null = null;
  let offline = false;
  let authCheck = true;
  let misbehaving: FakeHubMisbehaviour | null = null;
  let url = '';
  const files = await startFakeHubFiles();

  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    const auth = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const token = auth?.[1] ?? null;
    requests.push({ method: req.method ?? 'GET', path, token });
    if (offline) return req.socket.destroy();
    if (misbehaviour(misbehaving, res, token)) return;
    try {
      route(req, res, path, token);
    } catch (err) {
      send(res, 500, { error: `fake hub: ${(err as Error).message}` });
    }
  });

  function route(req: IncomingMessage, res: ServerResponse, path: string, token: string | null): void {
    if (retryAfter !== null) {
      return send(res, 429, { error: `You have been rate-limited; you can retry this action in about ${retryAfter} seconds. If you're a new user, your limits will raise progressively over time.` }, {
        'Retry-After': String(retryAfter),
        RateLimit: `"api";r=0;t=${retryAfter}`,
        'RateLimit-Policy': '"fixed window";"api";q=500;w=300',
      });
    }
    const holder = token ? tokens.get(token) : undefined;
    // Like the real Hub: a token it does not know is refused on every route, public ones included.
    if (token && !holder) return send(res, 401, { error: INVALID_CREDENTIALS }, { 'X-Error-Message': INVALID_CREDENTIALS });

    if (files.route(req, res, path, fileContext(holder))) return;

    if (path === '/api/whoami-v2') {
      if (!holder) return send(res, 401, { error: 'Invalid username or password.' });
      return send(res, 200, whoami(token!, holder));
    }
    let m = /^\/api\/models\/(.+?)(\/auth-check)?$/.exec(path);
    if (m && req.method === 'GET') {
      const model = models.get(m[1]!);
      const visible = model && (!model.private || holder?.user === FAKE_HUB_OWNER);
      if (!visible) return repoNotFound(res, holder);
      if (!m[2]) return send(res, 200, modelInfo(model));
      if (!authCheck) return send(res, 404, { error: "Sorry, we can't find the page you are looking for." });
      const refusal = gateRefusal(model, holder);
      return refusal ? send(res, refusal.status, { error: refusal.message }, refusal.headers) : send(res, 200, {});
    }
    m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (m && (req.method === 'HEAD' || req.method === 'GET')) {
      const model = models.get(m[1]!);
      const visible = model && (!model.private || holder?.user === FAKE_HUB_OWNER);
      if (!visible) return repoNotFound(res, holder);
      const refusal = gateRefusal(model, holder);
      if (refusal) return send(res, refusal.status, { error: refusal.message }, refusal.headers);
      if (m[3] !== 'config.json') return send(res, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound', 'X-Error-Message': 'Entry not found' });
      const body = JSON.stringify({ model_type: 'gpt2' });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ETag: '"fake-etag"', 'X-Repo-Commit': 'fakecommit0000000000000000000000000000000', 'X-Request-Id': requestId() });
      return void res.end(req.method === 'HEAD' ? undefined : body);
    }
    send(res, 404, { error: "Sorry, we can't find the page you are looking for." });
  }

  function gateRefusal(model: ModelRecord, holder: FakeHubToken | undefined): { status: number; message: string; headers: Record<string, string> } | null {
    if (!model.gated) return null;
    const kind = `model ${model.id}`;
    if (!holder) {
      const message = `Access to ${kind} is restricted. You must have access to it and be authenticated to access it. Please log in.`;
      return { status: 401, message, headers: { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': message } };
    }
    if (model.gated === 'auto' || model.granted.has(holder.user)) return null;
    const message =
      model.pending === 'everyone'
        ? `Your request to access ${kind} is awaiting a review from the repo authors.`
        : `Access to ${kind} is restricted and you are not in the authorized list. Visit ${url}/${model.id} to ask for access.`;
    return { status: 403, message, headers: { 'X-Error-Code': 'GatedRepo', 'X-Error-Message': message } };
  }

  function fileContext(holder: FakeHubToken | undefined): FileRouteContext {
    return {
      hubUrl: () => url,
      refusal: (repo, download) => {
        const model = models.get(repo.id);
        if (!model || (model.private && holder?.user !== FAKE_HUB_OWNER)) {
          return { status: holder ? 404 : 401, body: { error: 'Repository not found' }, headers: { 'X-Error-Code': 'RepoNotFound', 'X-Error-Message': 'Repository not found' } };
        }
        const refusal = download ? gateRefusal(model, holder) : null;
        return refusal ? { status: refusal.status, body: { error: refusal.message }, headers: refusal.headers } : null;
      },
      allModels: () => [...models.values()].map((m) => ({ id: m.id, gated: m.gated, private: m.private })),
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    addToken: (token, info = {}) => tokens.set(token, { user: FAKE_HUB_USER, displayName: 'added-token', role: 'read', ...info }),
    grant: (model, user = FAKE_HUB_USER) => void models.get(model)?.granted.add(user),
    rateLimit: (seconds) => void (retryAfter = seconds),
    setOffline: (value) => void (offline = value),
    setAuthCheck: (available) => void (authCheck = available),
    files,
    addRepo: (spec) => {
      files.addRepo(spec);
      models.set(spec.id, { id: spec.id, author: spec.id.split('/')[0]!, gated: spec.gated ?? false, private: spec.private ?? false, granted: new Set(), pending: 'nobody' });
    },
    reset: () => {
      for (const model of models.values()) model.granted.clear();
      retryAfter = null;
      offline = false;
      authCheck = true;
      misbehaving = null;
    },
    misbehave: (how) => void (misbehaving = how),
    close: async () => {
      await files.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

function whoami(token: string, holder: FakeHubToken): unknown {
  const accessToken: Record<string, unknown> = { displayName: holder.displayName, role: holder.role, createdAt: '2025-01-01T00:00:00.000Z' };
  if (holder.role === 'fineGrained') {
    accessToken.fineGrained = {
      canReadGatedRepos: true,
      global: ['discussion.write', 'post.write'],
      scoped: [{ entity: { _id: 'u1', type: 'user', name: holder.user }, permissions: holder.permissions ?? [] }],
    };
  }
  return {
    type: 'user',
    id: `fake-${holder.user}`,
    name: holder.user,
    fullname: holder.user === FAKE_HUB_OWNER ? 'Halo Owner' : 'Halo Tester',
    email: `${holder.user}@example.invalid`,
    emailVerified: true,
    canPay: false,
    isPro: false,
    periodEnd: null,
    avatarUrl: '/avatars/fake.svg',
    billingMode: 'postpaid',
    orgs: [],
    auth: { type: 'access_token', accessToken },
  };
}

function modelInfo(model: ModelRecord): unknown {
  return {
    _id: `fake-${model.id}`,
    id: model.id,
    modelId: model.id,
    author: model.author,
    sha: 'fakecommit0000000000000000000000000000000',
    lastModified: '2025-01-01T00:00:00.000Z',
    createdAt: '2024-01-01T00:00:00.000Z',
    private: model.private,
    disabled: false,
    gated: model.gated,
    downloads: 0,
    likes: 0,
    tags: ['transformers'],
    pipeline_tag: 'text-generation',
    library_name: 'transformers',
    siblings: [{ rfilename: 'config.json' }],
  };
}

/** Missing and private-without-access look the same: 401 without a token, 404 with one. */
function repoNotFound(res: ServerResponse, holder: FakeHubToken | undefined): void {
  send(res, holder ? 404 : 401, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound', 'X-Error-Message': 'Repository not found' });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'X-Request-Id': requestId(), ...headers });
  res.end(text);
}

function requestId(): string {
  return `Root=1-${randomBytes(4).toString('hex')}-${randomBytes(12).toString('hex')}`;
}
