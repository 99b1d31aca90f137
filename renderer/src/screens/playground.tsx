import { useEffect, useId, useMemo, useState, type ReactElement } from 'react';
import { api } from '../api/client';
import { EmptyState, Result, ScreenHeader } from '../components/ui';
import { MAX_TOKENS_LIMIT, modelChoices, modelFromHash, usePlayground, type ModelChoice } from '../stores/playground';
import { useServing, useServingRights } from '../stores/serving';
import { useSession } from '../stores/session';
import { AccessMissingActions } from './playground/access-missing';
import { Composer } from './playground/composer';
import { ModelHint, ModelPicker } from './playground/model-picker';
import { Transcript } from './playground/transcript';
import './playground/playground.css';

/**
 * What can be chosen: the serving status (live) for tokens that may read
 * /api/public; an inference token may only reach /v1, so it asks /v1/models.
 */
function useModelChoices(inferenceOnly: boolean, readable: boolean): { choices: ModelChoice[]; loaded: boolean } {
  const status = useServing((s) => s.status);
  const servingError = useServing((s) => s.error);
  const follow = useServing((s) => s.follow);
  const load = useServing((s) => s.load);
  const [v1, setV1] = useState<ModelChoice[] | null>(null);
  useEffect(() => {
    if (!readable) return;
    if (inferenceOnly) {
      let live = true;
      api.v1Models().then(
        (models) => live && setV1(models.map(({ model, loaded }): ModelChoice => ({ model, state: loaded ? 'running' : 'available' }))),
        () => live && setV1([]),
      );
      return () => {
        live = false;
      };
    }
    void load();
    return follow();
  }, [inferenceOnly, readable, follow, load]);
  const fromStatus = useMemo(() => modelChoices(status), [status]);
  if (inferenceOnly) return { choices: v1 ?? [], loaded: v1 !== null };
  return { choices: fromStatus, loaded: status !== null || servingError !== null };
}

function MaxTokensField({ disabled }: { disabled: boolean }): ReactElement {
  const id = useId();
  const maxTokens = usePlayground((s) => s.maxTokens);
  const setMaxTokens = usePlayground((s) => s.setMaxTokens);
  const [text, setText] = useState(String(maxTokens));
  useEffect(() => setText(String(maxTokens)), [maxTokens]);
  return (
    <div className="field playground__max-tokens">
      <label className="field__label" htmlFor={id}>
        Max tokens
      </label>
      <input
        id={id}
        className="input"
        type="number"
        inputMode="numeric"
        min={1}
        max={MAX_TOKENS_LIMIT}
        value={text}
        disabled={disabled}
        onChange={(e) => setText(e.target.value)}
        onBlur={() => setMaxTokens(Number(text))}
        data-testid="playground-max-tokens"
      />
    </div>
  );
}

export function PlaygroundScreen(): ReactElement {
  const rights = useServingRights();
  const inferenceOnly = useSession((s) => s.session?.token?.scope === 'inference');
  const readable = useSession((s) => s.phase === 'ready' && !s.refused && !(s.session?.authRequired && !s.session.token));
  const { choices, loaded } = useModelChoices(inferenceOnly, readable);
  const servingError = useServing((s) => s.error);
  const model = usePlayground((s) => s.model);
  const turns = usePlayground((s) => s.turns);
  const streaming = usePlayground((s) => s.streaming);
  const failure = usePlayground((s) => s.failure);
  const choose = usePlayground((s) => s.choose);
  const send = usePlayground((s) => s.send);
  const stop = usePlayground((s) => s.stop);
  const clear = usePlayground((s) => s.clear);

  // A link names a model (`#/playground?model=…`); else the first running model, else the first
  // downloaded one. A choice that vanished is kept: it may be loading again.
  useEffect(() => {
    const linked = modelFromHash(location.hash);
    if (linked) choose(linked);
  }, [choose]);
  useEffect(() => {
    if (!model && choices[0]) choose(choices[0].model);
  }, [model, choices, choose]);

  return (
    <>
      <ScreenHeader
        title="Playground"
        lead={
          <>
            Chat with a model on this workstation through its OpenAI-compatible <code>/v1</code>, the same API and token rules other tools use. The conversation stays in this tab: nothing is saved.
          </>
        }
      />
      <div className="playground">
        {!rights.chat ? <Result tone="warn" title="This token cannot chat" detail={rights.why ?? undefined} testId="playground-refused" /> : null}
        {servingError && !inferenceOnly ? <Result tone="danger" title={servingError.title} detail={servingError.detail} /> : null}
        <section className="card playground__chat" aria-label="Chat">
          <div className="playground__toolbar">
            <ModelPicker choices={choices} value={model} onChange={choose} disabled={streaming || !rights.chat} />
            <MaxTokensField disabled={streaming || !rights.chat} />
            {turns.length > 0 ? (
              <button type="button" className="button button--small" onClick={clear} disabled={streaming}>
                New chat
              </button>
            ) : null}
          </div>
          <ModelHint choices={choices} value={model} />
          {loaded && choices.length === 0 && !model ? (
            <EmptyState icon="models" title="No model to chat with yet">
              <p>
                Pull a GGUF model on the <a href="#/models">Models</a> screen; it shows up here, and runs when you send the first message.
              </p>
            </EmptyState>
          ) : null}
          {turns.length > 0 ? <Transcript turns={turns} /> : null}
          {failure?.access ? <AccessMissingActions access={failure.access} title={failure.title} detail={failure.detail} /> : null}
          {failure && !failure.access ? <Result tone="danger" title={failure.title} detail={failure.detail} testId="playground-failure" /> : null}
          <Composer streaming={streaming} disabled={!rights.chat || !model} onSend={(text) => void send(text)} onStop={stop} />
        </section>
      </div>
    </>
  );
}
