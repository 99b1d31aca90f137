import { describe, expect, it } from 'vitest';
import { splashContent, splashHtml, splashUrl } from '../splash.js';

const LOG = '/home/me/.halo-forge/logs/backend.log';

function page(url: string): string {
  expect(url.startsWith('data:text/html;charset=utf-8,')).toBe(true);
  return decodeURIComponent(url.slice('data:text/html;charset=utf-8,'.length));
}

describe('the splash page', () => {
  it('shows a loading state while the backend starts', () => {
    const html = page(splashUrl({ phase: 'starting', attempt: 1 }, LOG));
    expect(html).toContain('Starting Halo Forge');
    expect(html).toContain('role="status"');
  });

  it("shows the backend's own error, its hint and where to look when it cannot start", () => {
    const html = page(
      splashUrl(
        {
          phase: 'failed',
          message: 'The token store /home/me/.halo-forge/tokens.json cannot be read: it is not valid JSON (Unexpected token). It was left untouched; fix or move it, then start again.',
          hint: 'Token store: /home/me/.halo-forge/tokens.json',
          logPath: LOG,
          output: 'halo-forge: The token store ...',
        },
        LOG,
      ),
    );
    expect(html).toContain('role="alert"');
    expect(html).toContain('Halo Forge could not start its backend');
    expect(html).toContain('The token store /home/me/.halo-forge/tokens.json cannot be read: it is not valid JSON');
    expect(html).toContain('Token store: /home/me/.halo-forge/tokens.json');
    expect(html).toContain(`The backend&#39;s log: ${LOG}`);
    expect(html).toContain('Restart backend');
    expect(html).toContain('<summary>Backend output</summary>');
  });

  it('says a restart is coming, why, and when', () => {
    const content = splashContent({ phase: 'restarting', attempt: 2, maxAttempts: 5, delayMs: 1000, reason: 'The backend stopped unexpectedly (signal SIGKILL).', output: '' }, LOG);
    expect(content.lines).toEqual(['The backend stopped unexpectedly (signal SIGKILL).', 'Restarting in 1 s (attempt 2 of 5).', `The backend's log: ${LOG}`]);
  });

  it('treats the backend output as text, never as markup', () => {
    const html = splashHtml({ title: '<b>x</b>', lines: ['<img src=x onerror=alert(1)>'], output: '</pre><script>alert(1)</script>', busy: false });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
  });

  it('can run no script at all', () => {
    const html = page(splashUrl({ phase: 'idle' }, null));
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).not.toMatch(/<script|\son\w+=/i);
  });
});
