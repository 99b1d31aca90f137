import { useRef, useState, type FormEvent, type ReactElement } from 'react';
import { Card, Field, LiveRegion, Result, SecretInput, Spinner } from '../../components/ui';
import { Icon } from '../../components/icons';
import { useHuggingFace } from '../../stores/huggingface';

export const HF_TOKEN_INPUT_ID = 'hf-token-input';

function AdoptOffer(): ReactElement | null {
  const available = useHuggingFace((s) => s.status?.hfCacheAvailable ?? false);
  const busy = useHuggingFace((s) => s.busy);
  const adopt = useHuggingFace((s) => s.adoptHfTools);
  if (!available) return null;
  return (
    <div className="offer offer--row">
      <div>
        <p className="offer__title">
          <Icon name="key" size={18} /> Your Hugging Face tools already saved a token on this workstation.
        </p>
        <p className="muted">Halo Forge can verify it and use it, without you pasting anything.</p>
      </div>
      <button type="button" className="button" onClick={() => void adopt()} disabled={busy !== 'idle'}>
        Use the token your Hugging Face tools saved
      </button>
    </div>
  );
}

/**
 * The hf_ token lives in this component's state until it is sent, and only
 * there: not in a store, not in storage, never logged. The field is emptied
 * once the workstation has answered, unless the Hub was unreachable and the
 * user may still choose to save it unverified.
 */
export function HfTokenCard(): ReactElement {
  const [token, setToken] = useState('');
  const busy = useHuggingFace((s) => s.busy);
  const outcome = useHuggingFace((s) => s.outcome);
  const offerUnverified = useHuggingFace((s) => s.offerUnverified);
  const save = useHuggingFace((s) => s.save);
  const working = busy !== 'idle';
  const replacing = useHuggingFace((s) => s.status?.present ?? false);
  const outcomeRef = useRef<HTMLDivElement>(null);

  const send = async (verify: boolean) => {
    const result = await save(token, verify);
    if (result !== 'unreachable') setToken('');
    // The answer is what the user waits for: focus (and a screen reader) goes there, not back to a disabled field.
    outcomeRef.current?.focus();
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void send(true);
  };

  return (
    <Card title={replacing ? 'Replace the token' : 'Save a token'} description="Paste a read token from huggingface.co/settings/tokens. The workstation checks it with the Hub and stores it in its keyring (or a private file). This browser keeps nothing.">
      <div className="stack">
        <form className="stack" onSubmit={onSubmit} aria-label="Save a Hugging Face token">
          <Field id={HF_TOKEN_INPUT_ID} label="Hugging Face token" hint="Starts with hf_. A read token is enough to download gated and private models.">
            {({ id, describedBy }) => <SecretInput id={id} describedBy={describedBy} value={token} onChange={setToken} placeholder="hf_…" disabled={working} />}
          </Field>
          <div className="button-row">
            <button type="submit" className="button button--primary" disabled={working || token.trim() === ''}>
              Save and verify
            </button>
            {busy === 'verifying' ? (
              <span className="working" role="status">
                <Spinner /> Verifying with Hugging Face…
              </span>
            ) : busy === 'saving' || busy === 'adopting' ? (
              <span className="working" role="status">
                <Spinner /> Saving…
              </span>
            ) : null}
          </div>
        </form>
        <div ref={outcomeRef} tabIndex={-1} className="focus-target" data-testid="hf-outcome-region">
        <LiveRegion>
          {outcome ? (
            <Result tone={outcome.tone} title={outcome.title} detail={outcome.detail} testId="hf-outcome">
              {offerUnverified && token.trim() !== '' ? (
                <div className="result__actions">
                  <button type="button" className="button button--small" onClick={() => void send(false)} disabled={working}>
                    Save without verifying
                  </button>
                  <span className="muted">Only if you trust the token: the workstation cannot check it right now.</span>
                </div>
              ) : null}
            </Result>
          ) : null}
        </LiveRegion>
        </div>
        <AdoptOffer />
      </div>
    </Card>
  );
}
