import { useState, type FormEvent, type ReactElement } from 'react';
import { Badge, Card, Field, LiveRegion, Result, Spinner } from '../../components/ui';
import { Icon } from '../../components/icons';
import { useHuggingFace } from '../../stores/huggingface';
import { modelAccessWords, modelCheckMessage, offersModelPage } from '../../lib/huggingface';
import { HF_TOKEN_INPUT_ID } from './hf-token-card';

function GatedFlow({ highlight, modelUrl }: { highlight: boolean; modelUrl: string | null }): ReactElement {
  return (
    <section className={`flow${highlight ? ' flow--highlight' : ''}`} aria-labelledby="gated-flow-title" data-testid="gated-flow">
      <h3 id="gated-flow-title" className="flow__title">
        Gated models, in four steps
      </h3>
      <ol className="flow__steps">
        <li>
          Open the model page{modelUrl ? ' (the button above)' : ''}.
        </li>
        <li>Accept the license on Hugging Face if it asks. Halo Forge never accepts a license for you.</li>
        <li>
          Save a read token of that same account{' '}
          <button type="button" className="link-button" onClick={() => document.getElementById(HF_TOKEN_INPUT_ID)?.focus()}>
            above
          </button>
          .
        </li>
        <li>Check access here before serving or training.</li>
      </ol>
    </section>
  );
}

export function ModelAccessCard(): ReactElement {
  const [model, setModel] = useState('');
  const check = useHuggingFace((s) => s.check);
  const checkModel = useHuggingFace((s) => s.checkModel);
  const checking = check.phase === 'checking';
  const result = check.result;
  const words = result ? modelAccessWords(result) : null;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void checkModel(model);
  };

  return (
    <Card title="Check access to a model" description="Before serving or training, check that this workstation can download the model.">
      <div className="stack">
        <form className="inline-form" onSubmit={onSubmit} aria-label="Check model access">
          <Field label="Model" hint="owner/name, or the model's huggingface.co address">
            {({ id, describedBy }) => (
              <input id={id} className="input input--mono" value={model} onChange={(e) => setModel(e.target.value)} placeholder="meta-llama/Llama-3.1-8B" autoComplete="off" spellCheck={false} aria-describedby={describedBy} />
            )}
          </Field>
          <button type="submit" className="button button--primary" disabled={checking || model.trim() === ''}>
            Check access
          </button>
          {checking ? <Spinner label="Asking Hugging Face" /> : null}
        </form>
        <LiveRegion>
          {result && words ? (
            <div className={`model-result model-result--${words.tone}`} data-testid="model-check-result">
              <div className="model-result__head">
                <code className="model-result__id">{result.model}</code>
                <Badge tone={words.tone}>{words.label}</Badge>
              </div>
              <p>{modelCheckMessage(result) || words.advice}</p>
              {offersModelPage(result) ? (
                <a className="button button--small" href={result.url} target="_blank" rel="noopener noreferrer">
                  <Icon name="external" size={16} /> Open model page
                </a>
              ) : null}
            </div>
          ) : check.error ? (
            <Result tone="danger" title={check.error.title} detail={check.error.detail} />
          ) : null}
        </LiveRegion>
        <GatedFlow highlight={result?.access === 'gated'} modelUrl={result && offersModelPage(result) ? result.url : null} />
      </div>
    </Card>
  );
}
