import { useState, type FormEvent, type ReactElement } from 'react';
import { Badge, Card, EmptyState, Field, LiveRegion, Result, Spinner } from '../../components/ui';
import { useModels } from '../../stores/models';

const compact = new Intl.NumberFormat(undefined, { notation: 'compact' });

export function SearchCard(): ReactElement {
  const [query, setQuery] = useState('');
  const search = useModels((s) => s.search);
  const find = useModels((s) => s.find);
  const open = useModels((s) => s.open);
  const searching = search.phase === 'searching';

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void find(query);
  };

  return (
    <Card title="Find a model" description="Search Hugging Face by name, or paste an org/name or a huggingface.co link.">
      <div className="stack">
        <form className="inline-form" role="search" onSubmit={onSubmit} aria-label="Search models">
          <Field label="Model" hint="e.g. llama gguf, Qwen/Qwen2.5-7B-Instruct, https://huggingface.co/org/name">
            {({ id, describedBy }) => (
              <input id={id} className="input input--mono" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Search models" autoComplete="off" spellCheck={false} aria-describedby={describedBy} />
            )}
          </Field>
          <button type="submit" className="button button--primary" disabled={searching || query.trim() === ''}>
            Search
          </button>
          {searching ? <Spinner label="Searching" /> : null}
        </form>
        <LiveRegion>
          {search.error ? <Result tone="danger" title={search.error.title} detail={search.error.detail} testId="search-error" /> : null}
          {search.result && search.result.models.length === 0 ? <EmptyState icon="overview" title={`No models match “${search.result.query}”`} /> : null}
        </LiveRegion>
        {search.result && search.result.models.length > 0 ? (
          <ul className="model-list" aria-label="Search results">
            {search.result.models.map((m) => (
              <li key={m.id}>
                <button type="button" className="model-list__item" onClick={() => void open(m.id)} data-testid={`result-${m.id}`}>
                  <code className="model-list__id">{m.id}</code>
                  <span className="model-list__meta">
                    {m.gated ? <Badge tone="warn">gated</Badge> : null}
                    {m.private ? <Badge tone="neutral">private</Badge> : null}
                    {m.library ? <span>{m.library}</span> : null}
                    {m.pipelineTag ? <span>{m.pipelineTag}</span> : null}
                    {m.downloads !== null ? <span>{compact.format(m.downloads)} downloads</span> : null}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </Card>
  );
}
