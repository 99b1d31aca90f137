import { describe, expect, it } from 'vitest';
import { envHfToken, hfCacheTokenPath, hfTokenShapeProblem, resolveHfCredential, type HfCredentialSources } from '../src/secrets/hf-credential.js';
import { hubUrl, modelIdProblem } from '../src/secrets/hub-client.js';

const ENV = 'hf_EnvEnvEnvEnvEnvEnvEnvEnvEnvEnvEnvEnv01';
const KEYRING = 'hf_KeyringKeyringKeyringKeyringKeyring01';
const FILE = 'hf_FileFileFileFileFileFileFileFileFile01';
const CACHE = 'hf_CacheCacheCacheCacheCacheCacheCache001';

describe('which Hugging Face token wins', () => {
  const none: HfCredentialSources = { env: null, keyring: null, file: null, hfCache: null };
  it.each([
    ['every source holds one', { env: { token: ENV, variable: 'HF_TOKEN' as const }, keyring: KEYRING, file: FILE, hfCache: CACHE }, 'env', ENV],
    ['no env token', { keyring: KEYRING, file: FILE, hfCache: CACHE }, 'keyring', KEYRING],
    ['only the file and the HF tools', { file: FILE, hfCache: CACHE }, 'file', FILE],
    ['only the HF tools', { hfCache: CACHE }, 'hf-cache', CACHE],
    ['the env and the HF tools', { env: { token: ENV, variable: 'HUGGING_FACE_HUB_TOKEN' as const }, hfCache: CACHE }, 'env', ENV],
  ])('%s → %s', (_name, sources, source, token) => {
    expect(resolveHfCredential({ ...none, ...sources })).toEqual({ source, token });
  });

  it('nothing anywhere → no credential', () => {
    expect(resolveHfCredential(none)).toBeNull();
  });
});

describe('the token in the environment', () => {
  it.each([
    [{ HF_TOKEN: ENV }, { token: ENV, variable: 'HF_TOKEN' }],
    [{ HUGGING_FACE_HUB_TOKEN: ENV }, { token: ENV, variable: 'HUGGING_FACE_HUB_TOKEN' }],
    [{ HF_TOKEN: ENV, HUGGING_FACE_HUB_TOKEN: FILE }, { token: ENV, variable: 'HF_TOKEN' }],
    [{ HF_TOKEN: '  ', HUGGING_FACE_HUB_TOKEN: FILE }, { token: FILE, variable: 'HUGGING_FACE_HUB_TOKEN' }],
    [{ HF_TOKEN: `${ENV}\n` }, { token: ENV, variable: 'HF_TOKEN' }],
    [{ HF_TOKEN: '' }, null],
    [{}, null],
  ])('%j → %j', (env, expected) => {
    expect(envHfToken(env)).toEqual(expected);
  });
});

describe("where the Hugging Face tools' token is read from", () => {
  it.each([
    [{ HF_TOKEN_PATH: '/x/tok', HF_HOME: '/hf', HOME: '/home/a' }, '/x/tok'],
    [{ HF_HOME: '/hf', XDG_CACHE_HOME: '/xdg', HOME: '/home/a' }, '/hf/token'],
    [{ XDG_CACHE_HOME: '/xdg', HOME: '/home/a' }, '/xdg/huggingface/token'],
    [{ HOME: '/home/a' }, '/home/a/.cache/huggingface/token'],
  ])('%j → %s', (env, path) => {
    expect(hfCacheTokenPath(env)).toBe(path);
  });
});

describe('the shape of a Hugging Face token', () => {
  it.each([
    ['a real-looking token', 'hf_abcdefghijklmnopqrstuvwxyzABCDEFGH', null],
    ['a Halo Forge API token', 'hfk_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ', 'This is a Halo Forge API token (hfk_...), not a Hugging Face token (hf_...). Create a read token at https://huggingface.co/settings/tokens.'],
    ['no prefix', 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ', 'This is not a Hugging Face token: those start with "hf_". Create a read token at https://huggingface.co/settings/tokens.'],
    ['a space inside', 'hf_abcdefghijklmnop qrstuvwxyzABCDEFGH', 'A Hugging Face token has only letters and digits after "hf_"; check that it was copied whole, without spaces or quotes.'],
    ['quoted', 'hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"', 'A Hugging Face token has only letters and digits after "hf_"; check that it was copied whole, without spaces or quotes.'],
    ['cut short', 'hf_abcdefghij', 'This token is too short (10 characters after "hf_"); check that it was copied whole.'],
    ['far too long', `hf_${'a'.repeat(201)}`, 'This token is too long (201 characters after "hf_"); check that only the token was pasted.'],
  ])('%s', (_name, token, problem) => {
    expect(hfTokenShapeProblem(token)).toBe(problem);
  });
});

describe('model ids', () => {
  it.each([
    ['meta-llama/Llama-3.1-8B', true],
    ['gpt2', true],
    ['org_name/model.name_v2', true],
    ['a/b/c', false],
    ['../etc/passwd', false],
    ['org/na--me', false],
    ['org/name.', false],
    ['org/-name', false],
    ['org/name?x=1', false],
    ['', false],
    [`org/${'a'.repeat(97)}`, false],
  ])('%s is valid: %s', (model, valid) => {
    expect(modelIdProblem(model) === null).toBe(valid);
  });
});

describe('the Hub URL', () => {
  it.each([
    [{}, 'https://huggingface.co'],
    [{ HF_ENDPOINT: 'http://127.0.0.1:5000/' }, 'http://127.0.0.1:5000'],
    [{ HF_ENDPOINT: ' ' }, 'https://huggingface.co'],
  ])('%j → %s', (env, url) => {
    expect(hubUrl(env)).toBe(url);
  });
});
