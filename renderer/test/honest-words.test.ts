import { describe, expect, it } from 'vitest';
import type { AuthSession, ModelCheck } from '../../shared/api';
import { hubUnreachableDetail, modelAccessWords, modelCheckMessage, modelIdFrom, offersModelPage } from '../src/lib/huggingface';
import { adminNeed } from '../src/stores/session';

describe('the model field', () => {
  it.each([
    ['meta-llama/Llama-3.1-8B', 'meta-llama/Llama-3.1-8B'],
    ['  gpt2/gpt2  ', 'gpt2/gpt2'],
    ['https://huggingface.co/meta-llama/Llama-3.1-8B', 'meta-llama/Llama-3.1-8B'],
    ['https://huggingface.co/meta-llama/Llama-3.1-8B/tree/main', 'meta-llama/Llama-3.1-8B'],
    ['https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/config.json?x=1#top', 'Qwen/Qwen2.5-7B-Instruct'],
    ['huggingface.co/org/model', 'org/model'],
    ['https://hf.co/org/model', 'org/model'],
    ['https://www.huggingface.co/org/model', 'org/model'],
    // Not a model page: left as typed, for the workstation to refuse with its reason.
    ['https://huggingface.co/datasets/org/data', 'https://huggingface.co/datasets/org/data'],
    ['https://huggingface.co/spaces/org/app', 'https://huggingface.co/spaces/org/app'],
    ['https://huggingface.co/org', 'https://huggingface.co/org'],
    ['https://evil.example/org/model', 'https://evil.example/org/model'],
  ])('%j → %j', (input, id) => {
    expect(modelIdFrom(input)).toBe(id);
  });
});

const check = (over: Partial<ModelCheck>): ModelCheck => ({ model: 'o/m', access: 'granted', gated: false, url: 'https://huggingface.co/o/m', message: '', ...over });

describe('a model check in words', () => {
  it.each([
    [check({ access: 'gated', gated: 'manual', message: 'Your request to access o/m is awaiting a review from its authors. Check again once they have granted it (https://huggingface.co/o/m).' }), 'Request pending', true],
    [check({ access: 'gated', gated: 'auto', message: 'Access to o/m needs its license accepted on Hugging Face: open https://huggingface.co/o/m, accept it, then check again.' }), 'Gated: license not accepted', true],
    [check({ access: 'not_found', message: 'The Hub has no model o/m.' }), 'Not found', false],
    [check({ access: 'granted' }), 'Access granted', true],
    [check({ access: 'unreachable', url: '' }), 'Hub unreachable', false],
  ])('%#: %s reads "%s", model page offered: %s', (c, label, page) => {
    expect(modelAccessWords(c).label).toBe(label);
    expect(offersModelPage(c)).toBe(page);
    expect(modelCheckMessage(c)).not.toContain('https://huggingface.co/o/m');
  });

  it('drops the API and CLI advice from a Hub-unreachable save, keeping the reason', () => {
    const detail = hubUnreachableDetail('The Hugging Face Hub at https://huggingface.co could not be reached (connection refused). Nothing was saved. To save the token without verifying it, send "verify": false (CLI: halo-forge hf login --no-verify).');
    expect(detail).toContain('could not be reached (connection refused)');
    expect(detail).toContain('Nothing was saved');
    expect(detail).not.toMatch(/CLI|"verify"|--no-verify/);
  });
});

const session = (over: Partial<AuthSession>): AuthSession => ({ local: false, authRequired: true, token: null, proxied: false, ...over });

describe('why this browser may not administer', () => {
  it.each([
    [session({ local: true, authRequired: false }), null],
    [session({ token: { name: 'ops', scope: 'admin' } }), null],
    [session({ token: { name: 'viewer', scope: 'read' } }), 'viewer”, a read token'],
    [session({ token: { name: 'bot', scope: 'operate' } }), 'bot”, an operate token'],
    // --auth on: this computer needs a token too, so there is no "local session" to offer.
    [session({ local: true, authRequired: true }), 'this computer’s too'],
    [session({}), 'Paste one on the Connection screen'],
  ])('%j → %j', (s, words) => {
    const why = adminNeed({ session: s, refused: null });
    if (words === null) expect(why).toBeNull();
    else expect(why).toContain(words);
    expect(why ?? '').not.toContain('local session');
  });
});
