import { useId, type ReactElement } from 'react';
import type { ModelChoice } from '../../stores/playground';

const GROUPS: { state: ModelChoice['state']; label: string }[] = [
  { state: 'running', label: 'Running' },
  { state: 'loading', label: 'Loading' },
  { state: 'available', label: 'Downloaded (loads with the first message)' },
];

export function ModelPicker({ choices, value, onChange, disabled }: { choices: ModelChoice[]; value: string | null; onChange: (model: string) => void; disabled: boolean }): ReactElement {
  const id = useId();
  const chosen = choices.find((c) => c.model === value);
  return (
    <div className="field playground__picker">
      <label className="field__label" htmlFor={id}>
        Model
      </label>
      <select id={id} className="input input--mono" value={value ?? ''} onChange={(e) => onChange(e.target.value)} disabled={disabled || choices.length === 0} data-testid="playground-model">
        {value && !chosen ? <option value={value}>{value}</option> : null}
        {GROUPS.map(({ state, label }) => {
          const group = choices.filter((c) => c.state === state);
          return group.length === 0 ? null : (
            <optgroup key={state} label={label}>
              {group.map((c) => (
                <option key={c.model} value={c.model}>
                  {c.model}
                </option>
              ))}
            </optgroup>
          );
        })}
      </select>
    </div>
  );
}

/** Below the toolbar, so that the fields beside the picker stay aligned. */
export function ModelHint({ choices, value }: { choices: ModelChoice[]; value: string | null }): ReactElement | null {
  const chosen = choices.find((c) => c.model === value);
  if (chosen?.state === 'available') return <p className="field__hint">Not running yet: the first message loads it (just in time), so the first answer takes longer.</p>;
  if (chosen?.state === 'loading') return <p className="field__hint">Loading: the first answer starts once it is ready.</p>;
  return null;
}
