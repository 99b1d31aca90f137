import { describe, expect, it } from 'vitest';
import { backendOriginOf, decideNavigation, decideWindowOpen, isBackendUrl, mayOpenExternally } from '../navigation-policy.js';

const ORIGIN = 'http://127.0.0.1:8000';

describe('the backend origin', () => {
  it.each([
    ['http://127.0.0.1:8000/', 'http://127.0.0.1:8000'],
    ['http://127.0.0.1:8001/dashboard', 'http://127.0.0.1:8001'],
    ['https://127.0.0.1:8000/', null],
    ['http://localhost:8000/', null],
    ['http://192.168.1.5:8000/', null],
    ['http://user:pw@127.0.0.1:8000/', null],
    ['not a url', null],
  ])('of %s is %s', (url, origin) => {
    expect(backendOriginOf(url)).toBe(origin);
  });

  it.each([
    ['http://127.0.0.1:8000/', true],
    ['http://127.0.0.1:8000/connection?tab=remote#x', true],
    ['http://127.0.0.1:8001/', false],
    ['http://127.0.0.1:8000@evil.example/', false],
    ['http://127.0.0.1.evil.example:8000/', false],
    ['https://127.0.0.1:8000/', false],
    ['http://localhost:8000/', false],
    ['data:text/html,<p>hi', false],
    ['file:///etc/passwd', false],
    ['javascript:alert(1)', false],
    ['', false],
  ])('%s is a backend page: %s', (url, expected) => {
    expect(isBackendUrl(url, ORIGIN)).toBe(expected);
  });

  it('nothing is a backend page while the backend is down', () => {
    expect(isBackendUrl('http://127.0.0.1:8000/', null)).toBe(false);
  });
});

describe('opening links in the system browser', () => {
  it.each([
    ['https://huggingface.co/meta-llama/Llama-3.1-8B', true],
    ['https://huggingface.co/settings/tokens', true],
    ['HTTPS://HUGGINGFACE.CO/', true],
    ['http://huggingface.co/', false],
    ['https://user:pw@huggingface.co/', false],
    ['file:///etc/passwd', false],
    ['smb://attacker.example/share', false],
    ['javascript:alert(1)', false],
    ['vscode://file/etc/passwd', false],
    ['ms-msdt:/id PCWDiagnostic', false],
    ['mailto:someone@example.com', false],
    ['https://', false],
    [`https://huggingface.co/${'a'.repeat(3000)}`, false],
  ])('%s → %s', (url, expected) => {
    expect(mayOpenExternally(url)).toBe(expected);
  });
});

describe('navigation in the window', () => {
  it.each([
    ['http://127.0.0.1:8000/tokens', { allow: true }],
    ['https://huggingface.co/meta-llama', { allow: false, openExternally: 'https://huggingface.co/meta-llama' }],
    ['http://example.com/', { allow: false, openExternally: null }],
    ['http://127.0.0.1:9999/', { allow: false, openExternally: null }],
    ['file:///home/me/.halo-forge/tokens.json', { allow: false, openExternally: null }],
    ['data:text/html,<script>alert(1)</script>', { allow: false, openExternally: null }],
  ])('to %s', (url, expected) => {
    expect(decideNavigation(url, ORIGIN)).toMatchObject(expected);
  });

  it('stays put while the backend is down', () => {
    expect(decideNavigation('http://127.0.0.1:8000/', null)).toMatchObject({ allow: false, openExternally: null });
  });

  it.each([
    ['https://huggingface.co/meta-llama', 'https://huggingface.co/meta-llama'],
    ['http://127.0.0.1:8000/', null],
    ['about:blank', null],
    ['http://example.com/', null],
  ])('never opens a new window: %s goes to the browser as %s', (url, external) => {
    expect(decideWindowOpen(url)).toMatchObject({ allow: false, openExternally: external });
  });
});
