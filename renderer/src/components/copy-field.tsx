import { useEffect, useRef, useState, type ReactElement } from 'react';
import { Icon } from './icons';

async function copyText(text: string, fallbackInput: HTMLInputElement | null): Promise<boolean> {
  // navigator.clipboard needs a secure context; http://192.168.x.y is not one.
  if (window.isSecureContext && navigator.clipboard) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // fall through to the selection path
    }
  }
  if (!fallbackInput) return false;
  fallbackInput.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/** A read-only value with a Copy button; the value stays selectable for a manual copy. */
export function CopyField({ label, value, autoFocus, testId }: { label: string; value: string; autoFocus?: boolean; testId?: string }): ReactElement {
  const input = useRef<HTMLInputElement>(null);
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 2500);
    return () => clearTimeout(timer);
  }, [state]);
  return (
    <div className="copy-field">
      <input ref={input} className="input input--mono" readOnly value={value} aria-label={label} onFocus={(e) => e.currentTarget.select()} data-testid={testId} spellCheck={false} />
      <button type="button" className="button" onClick={async () => setState((await copyText(value, input.current)) ? 'copied' : 'failed')} data-autofocus={autoFocus ? '' : undefined}>
        <Icon name={state === 'copied' ? 'check' : 'copy'} size={16} />
        {state === 'copied' ? 'Copied' : 'Copy'}
        <span className="visually-hidden"> {label}</span>
      </button>
      <span className="visually-hidden" aria-live="polite">
        {state === 'copied' ? `${label} copied` : state === 'failed' ? 'Copy failed: select the text and copy it by hand' : ''}
      </span>
    </div>
  );
}
