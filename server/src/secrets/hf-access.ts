// Hugging Face access for the workstation: where its token lives, what the
// Hub says about it, and which models it opens. Routes and the CLI both work
// through this service; neither ever receives the token back.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { HfStatus, ModelCheck } from '../../../shared/api.js';
import type { AuditLog } from '../audit/audit-log.js';
import { httpError } from '../errors.js';
import { SymlinkRefusedError } from '../fs/private-file.js';
import { storageProblem } from '../fs/storage-error.js';
import { buildChildEnv } from './child-env.js';
import {
  envHfToken,
  hfCacheTokenPath,
  hfSecretFilePath,
  hfStaleKeyringMarkPath,
  hfTokenShapeProblem,
  resolveHfCredential,
  type HfCredentialSources,
} from './hf-credential.js';
import { HfKeyringEntry } from './hf-keyring-entry.js';
import { describeHfStatus, type HfResolution as Resolution } from './hf-status.js';
import { HubClient, hubUrl, modelIdProblem, type WhoamiOutcome } from './hub-client.js';
import type { Keyring } from './keyring.js';
import { openKeyring } from './keytar-keyring.js';
import { redactSecrets, registerSecret } from './redact.js';
import { SecretFile } from './secret-file.js';
import { isStale, VerificationCache, type Verification } from './verification-cache.js';

export interface HfSaveInput {
  token?: string;
  verify: boolean;
  adoptHfCache?: boolean;
}

/** Who asked, for the audit log. */
export interface HfOrigin {
  address?: string;
  via?: 'api' | 'cli';
}

export interface HfAccess {
  status(): Promise<HfStatus>;
  save(request: HfSaveInput, origin?: HfOrigin): Promise<HfStatus>;
  clear(origin?: HfOrigin): Promise<HfStatus>;
  /** Asks the Hub now, whatever the cached verdict. */
  verify(): Promise<HfStatus>;
  checkModel(model: string): Promise<ModelCheck>;
  /** The token in use, for the Models engine's Hub calls; never for a response or a log. */
  token(): Promise<string | null>;
  /** The environment for a serving or training process: see buildChildEnv. */
  childEnv(base?: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv>;
  /** Resolves once no background verification is in flight: a stopped server writes nothing more. */
  close(): Promise<void>;
}

export interface HfAccessOptions {
  env: NodeJS.ProcessEnv;
  audit: AuditLog | null;
  keyring?: Keyring;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Re-verify a stale verdict in the background when the status is read (the server does; a CLI run asks explicitly). */
  autoVerify?: boolean;
  hubTimeoutMs?: number;
  /** Where details for an administrator go (the server's log): what the keyring library said. */
  log?: (message: string) => void;
}

/** After a background verification could not reach the Hub, wait this long before the next one. */
const AUTO_RETRY_MS = 10 * 60_000;

const DEFERRED_DETAIL = 'the keyring did not answer, so its copy is ignored until it can be deleted';

export function createHfAccess(opts: HfAccessOptions): HfAccess {
  return new HfAccessService(opts);
}

class HfAccessService implements HfAccess {
  private readonly env: NodeJS.ProcessEnv;
  private readonly audit: AuditLog | null;
  private readonly keyring: HfKeyringEntry;
  private readonly file: SecretFile;
  private readonly cache: VerificationCache;
  private readonly hub: HubClient;
  private readonly now: () => Date;
  private readonly autoVerify: boolean;
  private readonly log: ((message: string) => void) | undefined;
  private loggedDetail: string | null = null;
  private background: Promise<void> | null = null;
  private nextBackgroundAt = 0;

  constructor(opts: HfAccessOptions) {
    this.env = opts.env;
    this.audit = opts.audit;
    this.keyring = new HfKeyringEntry(opts.keyring ?? openKeyring(opts.env), hfStaleKeyringMarkPath(opts.env), opts.audit);
    this.file = new SecretFile(hfSecretFilePath(opts.env));
    this.cache = new VerificationCache(opts.env);
    this.hub = new HubClient(hubUrl(opts.env), { fetch: opts.fetch, timeoutMs: opts.hubTimeoutMs });
    this.now = opts.now ?? (() => new Date());
    this.autoVerify = opts.autoVerify ?? true;
    this.log = opts.log;
  }

  async status(): Promise<HfStatus> {
    const r = await this.resolve();
    const verdict = r.credential ? this.cache.lookup(r.credential.token) : null;
    // Never on the request's path: the Hub rate-limits whoami, and status is polled.
    if (r.credential && this.autoVerify && isStale(verdict, this.now())) this.verifyInBackground(r.credential.token);
    return this.describe(r, verdict);
  }

  private describe(r: Resolution, verdict: Verification | null): HfStatus {
    return describeHfStatus(r, verdict, { secretFile: this.file.path, hfCache: hfCacheTokenPath(this.env) });
  }

  async save(request: HfSaveInput, origin: HfOrigin = {}): Promise<HfStatus> {
    let token: string;
    if (request.adoptHfCache) {
      const adopted = this.readHfCache();
      if (!adopted) throw httpError(400, 'hf.invalid_token', `The Hugging Face tools have no token saved at ${hfCacheTokenPath(this.env)}; paste a token instead.`);
      token = adopted;
    } else if (typeof request.token === 'string') {
      token = request.token.trim();
    } else {
      throw httpError(400, 'hf.invalid_token', 'Send the Hugging Face token as "token", or "adoptHfCache": true to adopt the one the Hugging Face tools saved.');
    }
    const problem = hfTokenShapeProblem(token);
    if (problem) throw httpError(400, 'hf.invalid_token', problem);
    // Before the first request that carries it: a Hub that echoes it back (in any case or encoding) must find it masked.
    registerSecret(token);

    let verdict: Omit<Verification, 'fingerprint'>;
    if (request.verify) {
      const answer = await this.hub.whoami(token);
      if (answer.kind === 'rejected') throw httpError(422, 'hf.rejected', `The Hugging Face Hub refused this token: ${answer.reason}. Nothing was saved.`);
      if (answer.kind === 'unreachable') {
        throw httpError(
          503,
          'hf.unreachable',
          `${answer.reason} Nothing was saved. To save the token without verifying it, send "verify": false (CLI: halo-forge hf login --no-verify).`,
          answer.retryAfter ? { 'retry-after': String(answer.retryAfter) } : {},
        );
      }
      verdict = this.verdictOf(answer);
    } else {
      verdict = { outcome: 'unverified', username: null, tokenName: null, role: null, canWrite: false, reason: null, checkedAt: null };
    }

    const { where, deferred } = await this.store(token);
    registerSecret(token);
    // The token is saved (perhaps in the keyring while the disk is full): what
    // the disk refuses after that is said, not turned into a failed save.
    const unsaved: string[] = [];
    try {
      this.cache.record(token, verdict);
    } catch (err) {
      unsaved.push(`the Hub's answer could not be kept (${storageProblem(err, dirname(this.cache.path))?.problem ?? (err as Error).message}); it is asked again later`);
    }
    const who = verdict.outcome === 'verified' ? `verified as ${verdict.username} (role ${verdict.role ?? 'unknown'})` : 'not verified';
    const auditFailed = this.audit?.append({
      event: 'hf.saved',
      address: origin.address,
      detail: `Hugging Face token saved in the ${where}, ${who}${request.adoptHfCache ? ', adopted from the Hugging Face tools' : ''}${origin.via === 'cli' ? ', from the CLI' : ''}${deferred ? `; ${DEFERRED_DETAIL}` : ''}`,
    });
    if (auditFailed) unsaved.push(`the audit log could not be written (${storageProblem(auditFailed, dirname(this.cache.path))?.problem ?? auditFailed.message})`);
    const status = await this.status();
    return unsaved.length === 0 ? status : { ...status, warnings: [...status.warnings, `The token is saved, but ${unsaved.join(', and ')}.`] };
  }

  async clear(origin: HfOrigin = {}): Promise<HfStatus> {
    const r = await this.resolve();
    if (r.credential?.source === 'env') {
      const variable = r.sources.env!.variable;
      throw httpError(
        409,
        'hf.env_token',
        `The Hugging Face token in use comes from ${variable} in the backend's environment, which Halo Forge cannot clear. Remove ${variable} from the shell profile, service unit or launch agent that starts Halo Forge, then restart it.`,
      );
    }
    const keyring = await this.keyring.remove();
    const removed = keyring.removed ? ['keyring'] : [];
    try {
      if (this.file.remove()) removed.push('file');
    } catch (err) {
      const disk = storageProblem(err, dirname(this.file.path));
      if (disk) throw httpError(disk.statusCode, disk.code, `Could not remove ${this.file.path}: ${disk.problem}. Nothing was changed, the token is still saved there; ${disk.remedy}.`);
      throw httpError(500, 'hf.storage_failed', `Could not remove ${this.file.path}: ${(err as Error).message}`);
    }
    for (const token of [r.sources.keyring, r.sources.file]) if (token) this.cache.forget(token);
    if (removed.length > 0 || keyring.deferred) {
      const what = removed.length > 0 ? `Hugging Face token removed from the ${removed.join(' and ')}` : 'Hugging Face token cleared';
      this.audit?.append({ event: 'hf.cleared', address: origin.address, detail: `${what}${origin.via === 'cli' ? ', from the CLI' : ''}${keyring.deferred ? `; ${DEFERRED_DETAIL}` : ''}` });
    }
    const r2 = await this.resolve();
    return this.describe(r2, r2.credential ? this.cache.lookup(r2.credential.token) : null);
  }

  async verify(): Promise<HfStatus> {
    const r = await this.resolve();
    if (!r.credential) throw httpError(400, 'hf.invalid_token', 'There is no Hugging Face token to verify; save one first.');
    const answer = await this.hub.whoami(r.credential.token);
    if (answer.kind === 'unreachable') {
      throw httpError(503, 'hf.unreachable', `${answer.reason} The last verification result is kept.`, answer.retryAfter ? { 'retry-after': String(answer.retryAfter) } : {});
    }
    this.recordAnswer(r.credential.token, answer);
    return this.describe(r, this.cache.lookup(r.credential.token));
  }

  async checkModel(model: string): Promise<ModelCheck> {
    const problem = modelIdProblem(model);
    if (problem) throw httpError(400, 'hf.invalid_model', problem);
    const r = await this.resolve();
    return this.hub.checkModel(model, r.credential?.token ?? null);
  }

  async token(): Promise<string | null> {
    return (await this.resolve()).credential?.token ?? null;
  }

  async childEnv(base: NodeJS.ProcessEnv = this.env): Promise<NodeJS.ProcessEnv> {
    const r = await this.resolve();
    return buildChildEnv(base, r.credential?.token ?? null);
  }

  private async resolve(): Promise<Resolution> {
    const warnings: string[] = [];
    const { token: keyring, stale: keyringStale } = await this.keyring.read();
    let file: string | null = null;
    try {
      const read = this.file.read();
      if (read) warnings.push(...read.warnings);
      const problem = read ? hfTokenShapeProblem(read.value) : null;
      // Whatever else is in that file (a config someone linked or copied there) is never sent to the Hub as a token.
      if (problem) warnings.push(`${this.file.path} does not hold a Hugging Face token, so it is not used (${problem.replace(/\.$/, '')}). Save a token again, or remove the file.`);
      else file = read?.value ?? null;
    } catch (err) {
      warnings.push(err instanceof SymlinkRefusedError ? err.message : `Could not read ${this.file.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`);
    }
    const sources: HfCredentialSources = { env: envHfToken(this.env), keyring, file, hfCache: this.readHfCache() };
    for (const token of [sources.env?.token, keyring, file, sources.hfCache]) registerSecret(token);
    const state = this.keyring.state();
    // The library's words (D-Bus errors) are for the log; the status says what they mean.
    if (state.detail && state.detail !== this.loggedDetail) this.log?.(`System keyring: ${redactSecrets(state.detail)}`);
    this.loggedDetail = state.detail ?? null;
    return { sources, credential: resolveHfCredential(sources), keyring: state, keyringStale, keyringMayHold: this.keyring.mayHold(), warnings };
  }

  /** The Hugging Face tools' token, when it looks like one; read, never written (their file, their links). */
  private readHfCache(): string | null {
    try {
      const token = readFileSync(hfCacheTokenPath(this.env), 'utf8').trim();
      return token && hfTokenShapeProblem(token) === null ? token : null;
    } catch {
      return null;
    }
  }

  /**
   * The keyring when it answers, else the 0600 file. Returns where the token
   * went, and whether an older keyring entry is left to delete once the keyring answers.
   */
  private async store(token: string): Promise<{ where: 'keyring' | 'file'; deferred: boolean }> {
    if (await this.keyring.save(token)) {
      try {
        this.file.remove();
      } catch {
        // The keyring copy wins over a leftover file anyway.
      }
      return { where: 'keyring', deferred: false };
    }
    try {
      this.file.write(token);
    } catch (err) {
      const keyring = (this.keyring.state().reason ?? 'the keyring is unavailable').replace(/\.$/, '');
      const disk = storageProblem(err, dirname(this.file.path));
      if (disk) throw httpError(disk.statusCode, disk.code, `Could not save the Hugging Face token: ${keyring}, and writing ${this.file.path} failed because ${disk.problem}. Nothing was saved; ${disk.remedy}.`);
      throw httpError(500, 'hf.storage_failed', `Could not save the Hugging Face token: ${keyring}, and writing ${this.file.path} failed (${(err as Error).message}).`);
    }
    // An older keyring entry would win over this file once the keyring answers again.
    const { deferred } = await this.keyring.remove();
    return { where: 'file', deferred };
  }

  private verdictOf(answer: Extract<WhoamiOutcome, { kind: 'ok' }>): Omit<Verification, 'fingerprint'> {
    return { outcome: 'verified', username: answer.username, tokenName: answer.tokenName, role: answer.role, canWrite: answer.canWrite, reason: null, checkedAt: this.now().toISOString() };
  }

  private recordAnswer(token: string, answer: Exclude<WhoamiOutcome, { kind: 'unreachable' }>): void {
    this.cache.record(
      token,
      answer.kind === 'ok'
        ? this.verdictOf(answer)
        : { outcome: 'rejected', username: null, tokenName: null, role: null, canWrite: false, reason: answer.reason, checkedAt: this.now().toISOString() },
    );
  }

  async close(): Promise<void> {
    await this.background;
  }

  private verifyInBackground(token: string): void {
    if (this.background || Date.now() < this.nextBackgroundAt) return;
    this.background = this.hub
      .whoami(token)
      .then((answer) => {
        if (answer.kind === 'unreachable') this.nextBackgroundAt = Date.now() + Math.max(AUTO_RETRY_MS, (answer.retryAfter ?? 0) * 1000);
        else this.recordAnswer(token, answer);
      })
      .catch(() => {
        this.nextBackgroundAt = Date.now() + AUTO_RETRY_MS;
      })
      .finally(() => {
        this.background = null;
      });
  }
}
