import { describe, expect, it } from 'vitest';
import { hubUrl } from '../src/secrets/hub-client.js';

describe('HF_ENDPOINT', () => {
  it.each([
    [undefined, 'https://huggingface.co'],
    ['https://hf-mirror.example/', 'https://hf-mirror.example'],
    ['http://127.0.0.1:9000/prefix/', 'http://127.0.0.1:9000/prefix'],
  ])('%s → %s', (value, expected) => {
    expect(hubUrl(value === undefined ? {} : { HF_ENDPOINT: value })).toBe(expected);
  });

  it.each([
    ['http://mirroruser:s3cretMirrorPw@127.0.0.1:1/', 'HF_ENDPOINT must not contain a user name or password; a mirror that needs credentials is not supported.'],
    ['https://hf.example/?token=abc', 'HF_ENDPOINT must not contain a query string or fragment.'],
    ['ftp://hf.example/', 'HF_ENDPOINT must be an http:// or https:// URL.'],
    ['not a url', "HF_ENDPOINT is not a URL; use e.g. https://huggingface.co or your mirror's address."],
  ])('refuses %s without repeating it', (value, message) => {
    expect(() => hubUrl({ HF_ENDPOINT: value })).toThrow(message);
    try {
      hubUrl({ HF_ENDPOINT: value });
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cret');
    }
  });
});
