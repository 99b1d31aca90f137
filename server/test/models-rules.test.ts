// The pure rules of Models, as tables: what a repo reference is, where the
// cache is, which file names are safe, which files a pattern takes, how files
// group, and what a download answer means.
import { describe, expect, it } from 'vitest';
import type { RepoFile } from '../../shared/models.js';
import { isHaloError } from '../src/errors.js';
import { resolveHubCache } from '../src/models/cache-dir.js';
import { ggufLabel, groupFiles } from '../src/models/file-groups.js';
import { selectFiles } from '../src/models/file-select.js';
import { parseRepoRef, revisionProblem } from '../src/models/repo-id.js';
import { repoPathProblem } from '../src/models/repo-path.js';
import { loggableUrl, rangeDecision, sendsToken } from '../src/models/transfer.js';

const HUB = 'https://huggingface.co';

function code(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    if (isHaloError(err)) return err.code;
    throw err;
  }
}

describe('repo references', () => {
  it.each([
    ['meta-llama/Llama-3.1-8B', { repo: 'meta-llama/Llama-3.1-8B', revision: null }],
    ['  gpt2  ', { repo: 'gpt2', revision: null }],
    ['https://huggingface.co/meta-llama/Llama-3.1-8B', { repo: 'meta-llama/Llama-3.1-8B', revision: null }],
    ['https://huggingface.co/meta-llama/Llama-3.1-8B/', { repo: 'meta-llama/Llama-3.1-8B', revision: null }],
    ['https://huggingface.co/TheBloke/x-GGUF/tree/main', { repo: 'TheBloke/x-GGUF', revision: 'main' }],
    ['https://huggingface.co/TheBloke/x-GGUF/blob/v1.0/model.gguf', { repo: 'TheBloke/x-GGUF', revision: 'v1.0' }],
    ['https://huggingface.co/org/name/resolve/abc123/config.json?download=true', { repo: 'org/name', revision: 'abc123' }],
    ['https://hf.co/org/name', { repo: 'org/name', revision: null }],
    ['https://huggingface.co/models/org/name', { repo: 'org/name', revision: null }],
  ])('%s is accepted', (input, expected) => {
    expect(parseRepoRef(input, HUB)).toEqual(expected);
  });

  it('a link on the HF_ENDPOINT mirror is accepted, with its path prefix', () => {
    expect(parseRepoRef('http://127.0.0.1:9999/mirror/org/name/tree/dev', 'http://127.0.0.1:9999/mirror')).toEqual({ repo: 'org/name', revision: 'dev' });
  });

  it.each([
    ['', 'model.invalid_id'],
    ['org/name/extra', 'model.invalid_id'],
    ['../etc/passwd', 'model.invalid_id'],
    ['org/na me', 'model.invalid_id'],
    ['org--x/name', 'model.invalid_id'],
    ['https://example.com/org/name', 'model.invalid_id'],
    ['https://huggingface.co/datasets/org/name', 'model.invalid_id'],
    ['https://huggingface.co/', 'model.invalid_id'],
    ['hf_abcdefghijklmnopqrstuvwxyz0123456789', 'model.looks_like_token'],
    ['hfk_abcdefghijklmnop', 'model.looks_like_token'],
    ['api_org_abcdefghijklmnop', 'model.looks_like_token'],
    ['https://huggingface.co/org/name?token=hf_abcdefghijklmnop', 'model.looks_like_token'],
  ])('%j is refused as %s', (input, expected) => {
    expect(code(() => parseRepoRef(input, HUB))).toBe(expected);
  });

  it('a refusal never repeats a token', () => {
    try {
      parseRepoRef('hf_SecretSecretSecretSecret1234', HUB);
    } catch (err) {
      expect((err as Error).message).not.toContain('SecretSecret');
    }
  });

  it.each([
    ['main', null],
    ['v1.0', null],
    ['refs/pr/1', null],
    ['0123456789abcdef0123456789abcdef01234567', null],
    ['../main', 'not'],
    ['a//b', 'not'],
    ['main.lock', 'not'],
    ['', 'not'],
    ['hf_abcdefghijklmnop', 'token'],
  ])('revision %j', (revision, problem) => {
    const found = revisionProblem(revision);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});

describe('the cache folder, as huggingface_hub resolves it', () => {
  const home = '/home/u';
  it.each([
    [{}, '/home/u/.cache/huggingface/hub'],
    [{ XDG_CACHE_HOME: '/x' }, '/x/huggingface/hub'],
    [{ XDG_CACHE_HOME: '/x', HF_HOME: '/h' }, '/h/hub'],
    [{ HF_HOME: '/h', HUGGINGFACE_HUB_CACHE: '/old' }, '/old'],
    [{ HF_HOME: '/h', HUGGINGFACE_HUB_CACHE: '/old', HF_HUB_CACHE: '/new' }, '/new'],
    [{ HF_HOME: '~/hf' }, '/home/u/hf/hub'],
    [{ HF_HUB_CACHE: '$DATA/cache', DATA: '/data' }, '/data/cache'],
    [{ HF_HUB_CACHE: '' , HF_HOME: '/h' }, '/h/hub'],
  ])('%j → %s', (env, expected) => {
    expect(resolveHubCache(env as NodeJS.ProcessEnv, home)).toBe(expected);
  });
});

describe('file names from the Hub are not trusted', () => {
  it.each([
    ['config.json', null],
    ['sub/dir/model.safetensors', null],
    ['.gitattributes', null],
    ['../evil', '..'],
    ['a/../../evil', '..'],
    ['/etc/passwd', 'absolute'],
    ['C:/x', 'absolute'],
    ['a\\b', 'backslash'],
    ['a//b', 'empty segment'],
    ['a/', 'empty segment'],
    ['./a', '"."'],
    ['', 'empty'],
  ])('%j', (path, problem) => {
    const found = repoPathProblem(path);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});

const file = (path: string, size = 10): RepoFile => ({ path, size, gitOid: '0'.repeat(40), sha256: null });
const REPO_FILES = ['config.json', 'tokenizer.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'sub/extra.safetensors', 'x.Q4_K_M.gguf', 'README.md', 'onnx/model.onnx'].map((p) => file(p));

describe('choosing files with include/exclude (allow/ignore patterns)', () => {
  it.each([
    [[], [], REPO_FILES.map((f) => f.path)],
    [['*.safetensors'], [], ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'sub/extra.safetensors']],
    [['*.safetensors', '*.json'], ['sub/'], ['config.json', 'tokenizer.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']],
    [['*Q4_K_M*'], [], ['x.Q4_K_M.gguf']],
    [['onnx/'], [], ['onnx/model.onnx']],
    [[], ['*.safetensors', 'onnx/*'], ['config.json', 'tokenizer.json', 'model.safetensors.index.json', 'x.Q4_K_M.gguf', 'README.md']],
  ])('include %j exclude %j', (include, exclude, expected) => {
    expect(selectFiles(REPO_FILES, include, exclude).map((f) => f.path)).toEqual(expected);
  });

  it('an include that matches nothing says which', () => {
    expect(() => selectFiles(REPO_FILES, ['*.gguf', '*.bin'], [])).toThrow(/"\*\.bin" matches none of the 9 files/);
  });

  it('patterns that leave nothing say so', () => {
    expect(() => selectFiles(REPO_FILES, ['*.gguf'], ['*.gguf'])).toThrow(/No file of the 9/);
  });
});

describe('grouping files the way people choose them', () => {
  it.each([
    ['Llama-3.2-1B-Instruct-Q4_K_M.gguf', 'Q4_K_M'],
    ['llama.q8_0.gguf', 'Q8_0'],
    ['model-IQ2_XXS.gguf', 'IQ2_XXS'],
    ['model-f16-00001-of-00003.gguf', 'F16'],
    ['mmproj.gguf', 'mmproj'],
  ])('%s is labelled %s', (path, label) => {
    expect(ggufLabel(path)).toBe(label);
  });

  it('GGUF quantizations, split sets counted once, with sizes', () => {
    const groups = groupFiles([
      file('m.Q4_K_M.gguf', 400),
      file('Q8_0/m.Q8_0-00001-of-00002.gguf', 500),
      file('Q8_0/m.Q8_0-00002-of-00002.gguf', 300),
      file('README.md', 5),
    ]);
    expect(groups).toEqual([
      { kind: 'gguf', label: 'Q4_K_M', files: ['m.Q4_K_M.gguf'], size: 400, include: ['m.Q4_K_M.gguf'] },
      { kind: 'gguf', label: 'Q8_0 (2 parts)', files: ['Q8_0/m.Q8_0-00001-of-00002.gguf', 'Q8_0/m.Q8_0-00002-of-00002.gguf'], size: 800, include: ['Q8_0/m.Q8_0-*-of-*.gguf'] },
      { kind: 'other', label: 'Other files', files: ['README.md'], size: 5, include: ['README.md'] },
    ]);
  });

  it('a safetensors set with its total, configs and tokenizer included', () => {
    const groups = groupFiles([file('config.json', 1), file('tokenizer.json', 2), file('model-00001-of-00002.safetensors', 100), file('model-00002-of-00002.safetensors', 50), file('model.safetensors.index.json', 3), file('README.md', 4)]);
    expect(groups[0]).toEqual({
      kind: 'safetensors',
      label: 'safetensors (2 shards)',
      files: ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json', 'tokenizer.json'],
      size: 156,
      include: ['*.safetensors', '*.safetensors.index.json', 'config.json', 'tokenizer.json'],
    });
    expect(groups[1]).toMatchObject({ kind: 'other', files: ['README.md'] });
    // Each group's include selects exactly its files.
    const all = [file('config.json', 1), file('tokenizer.json', 2), file('model-00001-of-00002.safetensors', 100), file('model-00002-of-00002.safetensors', 50), file('model.safetensors.index.json', 3), file('README.md', 4)];
    expect(selectFiles(all, groups[0]!.include, []).map((f) => f.path).sort()).toEqual(groups[0]!.files);
  });
});

describe('download answers', () => {
  it.each([
    [200, 0, null, 'append'],
    [200, 100, null, 'restart'],
    [206, 100, 100, 'append'],
    [206, 100, 0, 'restart'],
    [416, 100, null, 'verify'],
    [404, 0, null, 'error'],
  ] as const)('%i with %i bytes on disk (Content-Range from %s) → %s', (status, have, start, decision) => {
    expect(rangeDecision(status, have, start)).toBe(decision);
  });

  it.each([
    ['https://huggingface.co/org/m/resolve/main/x', true],
    ['https://huggingface.co/api/resolve-cache/x', true],
    ['https://cdn-lfs.huggingface.co/repos/ab/cd?X-Amz-Signature=s', false],
    ['https://cas-bridge.xethub.hf.co/xet-bridge/x', false],
    ['http://huggingface.co/org/m', false],
    ['https://huggingface.co:8443/org/m', false],
  ])('the token goes to %s: %s', (url, sends) => {
    expect(sendsToken(new URL(url), 'https://huggingface.co')).toBe(sends);
  });

  it('a signed URL is logged without its query', () => {
    expect(loggableUrl('https://cdn-lfs.hf.co/repos/a/b?X-Amz-Signature=secret&Expires=1')).toBe('https://cdn-lfs.hf.co/repos/a/b');
  });
});
