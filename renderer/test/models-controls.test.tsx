import { act, type ReactElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthSession } from '../../shared/api';
import type { LocalModel, ModelDetails } from '../../shared/models';
import type { ServingStatus } from '../../shared/serving';
import { LocalModelsCard } from '../src/screens/models/local-models';
import { ModelPage } from '../src/screens/models/model-page';
import { canOperate, useModels } from '../src/stores/models';
import { useServing } from '../src/stores/serving';
import { useSession } from '../src/stores/session';

// The Models screen's controls, rendered for each kind of token: which of
// Pull, Delete and Run a person sees follows the scope the backend enforces.

const REPO = 'halo-test/tiny-gguf';
const initial = { models: useModels.getState(), serving: useServing.getState(), session: useSession.getState() };
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const local: LocalModel = {
  id: REPO,
  kind: 'model',
  path: '/cache/models--halo-test--tiny-gguf',
  size: 2048,
  revisions: [{ commit: 'c'.repeat(40), refs: ['main'], files: [{ path: 'tiny.Q4_0.gguf', size: 2048 }], size: 2048, lastModified: '2026-12-01T12:00:00Z' }],
  lastPulled: '2026-12-01T12:00:00Z',
  incomplete: false,
};
const details: ModelDetails = {
  id: REPO,
  commit: 'c'.repeat(40),
  revision: 'main',
  gated: false,
  private: false,
  url: `https://huggingface.co/${REPO}`,
  files: [{ path: 'tiny.Q4_0.gguf', size: 2048, gitOid: 'a'.repeat(40), sha256: null }],
  groups: [{ kind: 'gguf', label: 'Q4_0', include: ['tiny.Q4_0.gguf'], files: ['tiny.Q4_0.gguf'], size: 2048 }],
  access: { state: 'granted', message: 'This workstation can download it.' },
  local,
};
const serving: ServingStatus = {
  models: [],
  available: [{ model: `${REPO}:tiny.Q4_0.gguf`, repo: REPO, file: 'tiny.Q4_0.gguf', commit: 'c'.repeat(40), size: 2048, runtime: 'embedded', running: false }],
  runtimes: [],
  maxLoaded: 1,
  ttlSeconds: null,
};

/** The Models screen's parts that carry controls, wired to the session as the screen wires them. */
function Controls(): ReactElement {
  const operate = useSession(canOperate);
  return (
    <>
      <ModelPage canOperate={operate} />
      <LocalModelsCard canOperate={operate} />
    </>
  );
}

let root: Root;
let host: HTMLElement;
beforeEach(() => {
  useModels.setState({ ...initial.models, selected: { repo: REPO, phase: 'done', details, error: null }, local: { cacheDir: '/cache', freeBytes: null, models: [local] } }, true);
  useServing.setState({ ...initial.serving, status: serving }, true);
  host = document.body.appendChild(document.createElement('div'));
  root = createRoot(host);
});
afterEach(() => {
  act(() => root.unmount());
  host.remove();
  useModels.setState(initial.models, true);
  useServing.setState(initial.serving, true);
  useSession.setState(initial.session, true);
});

function renderFor(session: AuthSession): void {
  useSession.setState({ ...initial.session, phase: 'ready', session, refused: null } as Partial<ReturnType<typeof useSession.getState>>);
  act(() => root.render(<Controls />));
}

const token = (scope: 'read' | 'operate' | 'admin' | 'inference'): AuthSession => ({ local: false, authRequired: true, token: { name: `${scope}-token`, scope }, proxied: false });
const buttons = (name: RegExp) => [...host.querySelectorAll('button')].filter((b) => name.test(b.textContent ?? '') || name.test(b.getAttribute('aria-label') ?? ''));
const enabled = (name: RegExp) => buttons(name).filter((b) => !b.disabled);

describe('the Models controls a token is shown', () => {
  it('an inference token (the OpenAI API only) sees no Pull, Delete or Run it could use', () => {
    renderFor(token('inference'));
    expect(enabled(/^Pull/)).toEqual([]);
    expect(buttons(/Delete/)).toEqual([]);
    expect(buttons(/^Run /)).toEqual([]);
    expect(host.querySelector('[data-testid="no-operate"]')?.textContent).toContain('operate scope');
  });

  it.each(['operate', 'admin'] as const)('an %s token sees Pull, Delete and Run', (scope) => {
    renderFor(token(scope));
    expect(enabled(/^Pull/).length).toBeGreaterThan(0);
    expect(buttons(/^Delete/).length).toBeGreaterThan(0);
    expect(buttons(/^Run /).length).toBeGreaterThan(0);
    expect(host.querySelector('[data-testid="no-operate"]')).toBeNull();
  });

  it('a read token sees the models but no control', () => {
    renderFor(token('read'));
    expect(host.textContent).toContain(REPO);
    expect(enabled(/^Pull/)).toEqual([]);
    expect(buttons(/Delete/)).toEqual([]);
    expect(buttons(/^Run /)).toEqual([]);
  });
});
