import type { BackendState } from './supervisor.js';

/**
 * The page the window shows while the backend is not serving the dashboard:
 * a loading state, a restart notice, or the backend's own error with where to
 * look. A data: URL with no script and a CSP that allows none, so the page
 * can do nothing but be read.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface SplashContent {
  title: string;
  /** Paragraphs, plain text. */
  lines: string[];
  /** Output of the backend, shown folded. */
  output?: string;
  busy: boolean;
}

export function splashContent(state: BackendState, logPath: string | null): SplashContent {
  const where = logPath ? `The backend's log: ${logPath}` : null;
  switch (state.phase) {
    case 'idle':
    case 'starting':
      return { title: 'Starting Halo Forge…', lines: state.phase === 'starting' && state.attempt > 1 ? [`Starting the workstation backend (attempt ${state.attempt}).`] : ['Starting the workstation backend.'], busy: true };
    case 'ready':
      return { title: 'Opening the dashboard…', lines: [state.url], busy: true };
    case 'restarting':
      return {
        title: 'The backend stopped; restarting',
        lines: [state.reason, `Restarting in ${formatDelay(state.delayMs)} (attempt ${state.attempt} of ${state.maxAttempts}).`, ...(where ? [where] : [])],
        output: state.output,
        busy: true,
      };
    case 'failed':
      return {
        title: 'Halo Forge could not start its backend',
        lines: [state.message, state.hint, ...(where ? [where] : []), 'After fixing it, choose Halo Forge ▸ Restart backend (or quit and open the app again).'].filter(Boolean),
        output: state.output,
        busy: false,
      };
    case 'stopping':
      return { title: 'Stopping Halo Forge…', lines: ['Letting running requests finish.'], busy: true };
    case 'stopped':
      return { title: 'Halo Forge stopped', lines: ['The workstation backend is not running.'], busy: false };
  }
}

export function splashHtml(content: SplashContent): string {
  const lines = content.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n');
  const output = content.output ? `<details><summary>Backend output</summary><pre>${escapeHtml(content.output)}</pre></details>` : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>Halo Forge</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
  main { max-width: 40rem; padding: 2rem; }
  h1 { font-size: 1.25rem; font-weight: 600; }
  p { line-height: 1.5; overflow-wrap: anywhere; user-select: text; }
  pre { white-space: pre-wrap; font-size: 0.8rem; max-height: 40vh; overflow: auto; padding: 0.75rem; border-radius: 6px; background: color-mix(in srgb, CanvasText 8%, Canvas); user-select: text; }
  .spinner { width: 1.5rem; height: 1.5rem; border: 3px solid color-mix(in srgb, CanvasText 20%, Canvas); border-top-color: #e07a2f; border-radius: 50%; animation: spin 0.9s linear infinite; }
  @keyframes spin { to { transform: rotate(360deg); } }
</style></head>
<body><main role="${content.busy ? 'status' : 'alert'}">
${content.busy ? '<div class="spinner" aria-hidden="true"></div>' : ''}
<h1>${escapeHtml(content.title)}</h1>
${lines}
${output}
</main></body></html>`;
}

export function splashUrl(state: BackendState, logPath: string | null): string {
  return `data:text/html;charset=utf-8,${encodeURIComponent(splashHtml(splashContent(state, logPath)))}`;
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
