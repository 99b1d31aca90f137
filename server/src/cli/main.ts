import { Command, InvalidArgumentError, Option } from 'commander';
import { AUTH_MODES, SCOPES, type AuthMode, type Scope } from '../../../shared/api.js';
import { isHaloError } from '../errors.js';
import { StartupError } from '../app.js';
import { DURATION_FORMAT } from '../auth/token-format.js';
import { TokenStoreCorruptError } from '../auth/token-store.js';
import { LockTimeoutError } from '../fs/file-lock.js';
import { SymlinkRefusedError } from '../fs/private-file.js';
import { LOG_FORMATS, type LogFormat } from '../log/log-format.js';
import { redactSecrets } from '../secrets/redact.js';
import { version } from '../version.js';

/** An error meant for a person: printed as is, with this exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return n;
}

function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

let longRunning = false;

export function buildCli(): Command {
  const program = new Command('halo-forge')
    .description('Halo Forge workstation: the backend, its API tokens, Hugging Face access and models.')
    .version(version)
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(redactSecrets(text)) });

  program
    .command('serve')
    .description('Start the workstation backend (127.0.0.1:8000, no token needed locally).')
    .option('--host <address>', 'address to bind; any non-loopback address turns token auth on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', portNumber, 8000)
    .option('--port-fallback', 'if the port is taken, use the next free one')
    .addOption(new Option('--auth <mode>', 'auto: tokens for remote clients; on: tokens for everyone; off: no auth').choices(AUTH_MODES).default('auto'))
    .option('--insecure-no-auth', 'allow --auth off on a non-loopback address')
    .option('--trust-proxy <cidrs>', 'reverse proxies whose X-Forwarded-For / Forwarded headers are believed (comma-separated)', list)
    .option('--allowed-hosts <hosts>', 'extra Host names a loopback bind answers to (comma-separated)', list)
    .option('--log-level <level>', 'fatal, error, warn, info, debug (debug: a line for every request)', 'info')
    .addOption(new Option('--log-format <format>', 'pretty: plain lines for a person; json: one JSON object a line, for programs').choices(LOG_FORMATS).default('pretty'))
    .option('--model <repo[:file]>', 'load this downloaded model at startup (headless servers); /v1 serves it')
    .option('--model-ttl <ttl>', 'unload a model idle this long: 30m, 2h, never (default 60m)')
    .option('--max-models <n>', 'at most this many models loaded at once (default 2)')
    .action(async (o: { host: string; port: number; portFallback?: boolean; auth: AuthMode; insecureNoAuth?: boolean; trustProxy?: string[]; allowedHosts?: string[]; logLevel: string; logFormat: LogFormat; model?: string; modelTtl?: string; maxModels?: string }) => {
      longRunning = true;
      const { runServe } = await import('../serve.js');
      await runServe({ ...o, portFallback: o.portFallback ?? false });
    });

  const token = program.command('token').description('Manage API tokens (hfk_...) for remote clients.');
  token
    .command('create <name>')
    .description('Create a token; its secret is printed once.')
    .addOption(new Option('--scope <scope>', 'admin (everything), operate (use the workstation), read (GET only), inference (the OpenAI API /v1 only)').choices(SCOPES).default('admin'))
    .option('--expires <duration>', `expire after a duration: ${DURATION_FORMAT}`)
    .option('--note <text>', 'a note to remember what the token is for')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { scope: Scope; expires?: string; note?: string; json?: boolean }) => (await import('./token.js')).tokenCreate(name, o));
  token
    .command('list')
    .description('List tokens (never their secrets).')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => (await import('./token.js')).tokenList(o));
  token
    .command('revoke <name>')
    .description('Revoke a token; a running server refuses it within a second.')
    .action(async (name: string) => (await import('./token.js')).tokenRevoke(name));

  const hf = program.command('hf').description('Hugging Face access for this workstation (hf_... tokens).');
  hf
    .command('status')
    .description('Where the Hugging Face token comes from and who it belongs to (never the token).')
    .option('--json', 'print JSON')
    .option('--verify', 're-verify with the Hub now')
    .action(async (o: { json?: boolean; verify?: boolean }) => (await import('./hf.js')).hfStatus(o));
  hf
    .command('login')
    .description('Save a Hugging Face token, read from a hidden prompt or standard input (never an argument).')
    .option('--no-verify', 'save without checking it with the Hub (only when the Hub cannot be reached)')
    .option('--adopt', 'adopt the token the Hugging Face tools already saved')
    .action(async (o: { verify: boolean; adopt?: boolean }) => (await import('./hf.js')).hfLogin(o));
  hf
    .command('logout')
    .description('Remove the token halo-forge stored (keyring and file).')
    .action(async () => (await import('./hf.js')).hfLogout());
  hf
    .command('check <model>')
    .description('Tell whether this workstation can download a model, e.g. meta-llama/Llama-3.1-8B.')
    .option('--json', 'print JSON')
    .action(async (model: string, o: { json?: boolean }) => (await import('./hf.js')).hfCheck(model, o));

  const models = program.command('models').description('Find, pull and keep Hugging Face models in the shared Hugging Face cache.');
  models
    .command('search <query>')
    .description('Search the Hub by name, org/name or a huggingface.co link.')
    .option('--limit <n>', 'how many models to list (1-100)', positiveInteger, 20)
    .option('--json', 'print JSON')
    .action(async (query: string, o: { json?: boolean; limit: number }) => (await import('./models.js')).modelsSearch(query, o));
  models
    .command('pull <repo>')
    .description('Pull a model (org/name or a huggingface.co link) into the cache; exits 0 only once every chosen file is verified. Ctrl-C keeps the partial files: run the same command to resume.')
    .option('--revision <rev>', 'branch, tag or commit (default: main)')
    .option('--include <glob>', 'only files matching this glob (repeatable), e.g. "*Q4_K_M.gguf"', collect)
    .option('--exclude <glob>', 'skip files matching this glob (repeatable)', collect)
    .option('--json', 'print the finished pull as JSON, and no progress')
    .action(async (repo: string, o: { revision?: string; include?: string[]; exclude?: string[]; json?: boolean }) => (await import('./models.js')).modelsPull(repo, o));
  models
    .command('list')
    .description('Everything in the shared Hugging Face cache, whoever pulled it.')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => (await import('./models.js')).modelsList(o));
  models
    .command('rm <repo>')
    .description('Delete a model, or one revision of it, from the cache (files another revision uses are kept).')
    .option('--revision <rev>', 'only this revision (commit or ref)')
    .option('--yes', 'do not ask for confirmation (needed when standard input is not a terminal)')
    .action(async (repo: string, o: { revision?: string; yes?: boolean }) => (await import('./models.js')).modelsRm(repo, o));
  models
    .command('run <model>')
    .description('Load a downloaded model (org/name or org/name:file.gguf) in the running backend; /v1 serves it. Needs "halo-forge serve" (or the desktop app) running.')
    .option('--runtime <name>', 'embedded (default), llama-server or vllm')
    .option('--ctx <tokens>', 'context size in tokens', contextSize)
    .option('--json', 'print JSON')
    .action(async (model: string, o: { runtime?: string; ctx?: number; json?: boolean }) => (await import('./serving.js')).modelsRun(model, o));
  models
    .command('stop <model>')
    .description('Unload a running model (by org/name, or org/name:file.gguf).')
    .option('--json', 'print JSON')
    .action(async (model: string, o: { json?: boolean }) => (await import('./serving.js')).modelsStop(model, o));

  program
    .command('ps')
    .description('What the running backend has loaded: model, runtime, memory, state, uptime.')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => (await import('./serving.js')).ps(o));

  const runs = program.command('runs').description('Training and evaluation jobs, run by the backend (it must be running: halo-forge serve, or the desktop app).');
  runs
    .command('start')
    .description('Start a run as this user: halo-forge runs start [options] -- COMMAND ARGS... (needs admin when a token is used).')
    .argument('<command...>', 'the program and its arguments, after "--"; no shell')
    .option('--name <name>', 'a name to find it by (default: the program name)')
    .option('--cwd <dir>', 'working folder (default: this one)')
    .option('--env <NAME=VALUE>', 'an extra environment variable (repeat for more)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--model <repo>', 'a model from the local cache: HALOFORGE_MODEL_PATH and HALOFORGE_MODEL_ID for the job')
    .option('--revision <rev>', 'the model revision (default: main, or the newest pulled)')
    .option('--gpu', 'a GPU job: waits while another GPU job runs (when the one-at-a-time limit is on)')
    .option('--json', 'print JSON')
    .action(async (command: string[], o) => (await import('./runs.js')).runsStart(command, o));
  runs
    .command('list')
    .description('Runs, newest first.')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => (await import('./runs.js')).runsList(o));
  runs
    .command('show <run>')
    .description('One run (by id, or by name: the newest with it).')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => (await import('./runs.js')).runsShow(name, o));
  runs
    .command('logs <run>')
    .description("A run's log (redacted); --follow streams it until the run ends.")
    .option('-f, --follow', 'keep printing new output until the run ends')
    .option('--tail <bytes>', 'how much of the end of the log to print', (v: string) => {
      if (!/^[1-9]\d{0,6}$/.test(v)) throw new InvalidArgumentError('expected a number of bytes up to 4194304');
      return Number(v);
    })
    .action(async (name: string, o: { follow?: boolean; tail?: number }) => (await import('./runs.js')).runsLogs(name, o));
  runs
    .command('stop <run>')
    .description('Stop a run: SIGTERM to its whole process group, SIGKILL after the grace period.')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => (await import('./runs.js')).runsStop(name, o));

  return program;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 100) throw new InvalidArgumentError('expected a whole number from 1 to 100');
  return n;
}

function contextSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 16 || n > 4_194_304) throw new InvalidArgumentError('expected a number of tokens from 16');
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** The one place that turns errors into a message and an exit code. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
    // A one-shot command is done once it has printed its answer; a keyring call
    // that never returns (a locked keyring) must not keep the process alive.
    if (!longRunning) process.exit(process.exitCode ?? 0);
  } catch (err) {
    const out = (line: string) => process.stderr.write(`${redactSecrets(line)}\n`);
    if (err instanceof CliError) {
      out(`halo-forge: ${err.message}`);
      process.exit(err.exitCode);
    }
    if (isHaloError(err)) {
      out(`halo-forge: ${err.message}`);
      process.exit(err.statusCode === 404 ? 3 : 1);
    }
    if (err instanceof StartupError) {
      out(`halo-forge: ${err.message}\n  ${err.hint}`);
      process.exit(1);
    }
    if (err instanceof TokenStoreCorruptError || err instanceof LockTimeoutError || err instanceof SymlinkRefusedError) {
      out(`halo-forge: ${err.message}`);
      process.exit(1);
    }
    out(`halo-forge: unexpected error: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(70);
  }
}
