import { useId, useState, type ReactElement, type ReactNode } from 'react';
import type { Tone } from '../lib/huggingface';
import { Icon } from './icons';

export function Badge({ tone, children }: { tone: Tone; children: ReactNode }): ReactElement {
  return (
    <span className={`badge badge--${tone}`}>
      <span className="badge__dot" aria-hidden="true" />
      {children}
    </span>
  );
}

export function Card({ title, description, actions, children, className, labelledBy }: { title: string; description?: ReactNode; actions?: ReactNode; children?: ReactNode; className?: string; labelledBy?: string }): ReactElement {
  const fallbackId = useId();
  const headingId = labelledBy ?? fallbackId;
  return (
    <section className={`card${className ? ` ${className}` : ''}`} aria-labelledby={headingId}>
      <header className="card__header">
        <div>
          <h2 id={headingId} className="card__title">
            {title}
          </h2>
          {description ? <p className="card__description">{description}</p> : null}
        </div>
        {actions ? <div className="card__actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

export function ScreenHeader({ title, lead, actions }: { title: string; lead: ReactNode; actions?: ReactNode }): ReactElement {
  return (
    <header className="screen__header">
      <div>
        <h1 id="screen-title" className="screen__title" tabIndex={-1}>
          {title}
        </h1>
        <p className="screen__lead">{lead}</p>
      </div>
      {actions ? <div className="screen__actions">{actions}</div> : null}
    </header>
  );
}

/** An answer to something the user did; read out by screen readers as it appears. */
export function Result({ tone, title, detail, children, testId }: { tone: 'ok' | 'warn' | 'danger' | 'info'; title: string; detail?: ReactNode; children?: ReactNode; testId?: string }): ReactElement {
  return (
    <div className={`result result--${tone}`} data-testid={testId}>
      <Icon name={tone === 'ok' ? 'check' : 'warning'} />
      <div>
        <p className="result__title">{title}</p>
        {detail ? <p className="result__detail">{detail}</p> : null}
        {children}
      </div>
    </div>
  );
}

/** A region whose changes are announced; keep it mounted and swap its content. */
export function LiveRegion({ children, className }: { children: ReactNode; className?: string }): ReactElement {
  return (
    <div aria-live="polite" aria-atomic="true" className={className}>
      {children}
    </div>
  );
}

export function Spinner({ label }: { label?: string }): ReactElement {
  return <span className="spinner" role={label ? 'status' : undefined} aria-label={label} aria-hidden={label ? undefined : true} />;
}

export function EmptyState({ icon, title, children }: { icon: Parameters<typeof Icon>[0]['name']; title: string; children?: ReactNode }): ReactElement {
  return (
    <div className="empty">
      <span className="empty__icon">
        <Icon name={icon} size={24} />
      </span>
      <p className="empty__title">{title}</p>
      {children ? <div className="empty__body">{children}</div> : null}
    </div>
  );
}

export function Field({ label, hint, error, id: fixedId, children }: { label: string; hint?: ReactNode; error?: string | null; id?: string; children: (ids: { id: string; describedBy: string | undefined }) => ReactNode }): ReactElement {
  const generatedId = useId();
  const id = fixedId ?? generatedId;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        {label}
      </label>
      {children({ id, describedBy })}
      {hint ? (
        <p className="field__hint" id={hintId}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field__error" id={errorId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * A token input: hidden by default, revealable, never autofilled or
 * spell-checked (a spell-check service would receive the text).
 */
export function SecretInput({ id, describedBy, value, onChange, placeholder, disabled }: { id: string; describedBy?: string; value: string; onChange: (value: string) => void; placeholder: string; disabled?: boolean }): ReactElement {
  const [revealed, setRevealed] = useState(false);
  return (
    <div className="secret-input">
      <input
        id={id}
        className="input input--mono"
        type={revealed ? 'text' : 'password'}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        placeholder={placeholder}
        autoComplete="off"
        autoCorrect="off"
        autoCapitalize="off"
        spellCheck={false}
        aria-describedby={describedBy}
        disabled={disabled}
        data-1p-ignore=""
        data-lpignore="true"
      />
      <button type="button" className="secret-input__toggle" aria-pressed={revealed} aria-label={revealed ? 'Hide token' : 'Show token'} title={revealed ? 'Hide token' : 'Show token'} onClick={() => setRevealed(!revealed)}>
        <Icon name={revealed ? 'eyeOff' : 'eye'} size={18} />
      </button>
    </div>
  );
}

/** `busy`: a change is under way; clicks are ignored but the switch keeps focus (a disabled one would lose it). */
export function Switch({ checked, onChange, label, disabled, busy, describedBy }: { checked: boolean; onChange: (checked: boolean) => void; label: string; disabled?: boolean; busy?: boolean; describedBy?: string }): ReactElement {
  return (
    <button
      type="button"
      role="switch"
      className="switch"
      aria-checked={checked}
      aria-label={label}
      aria-describedby={describedBy}
      aria-busy={busy || undefined}
      disabled={disabled}
      onClick={() => {
        if (!busy) onChange(!checked);
      }}
    >
      <span className="switch__thumb" aria-hidden="true" />
    </button>
  );
}

export function DefinitionList({ items }: { items: [string, ReactNode][] }): ReactElement {
  return (
    <dl className="facts">
      {items.map(([term, value]) => (
        <div className="facts__row" key={term}>
          <dt>{term}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
