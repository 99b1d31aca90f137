import type { ReactElement } from 'react';

/** A labelled bar: the numbers are in the text, the bar only shows the share. */
export function Meter({ label, value, text, testId }: { label: string; value: number | null; text: string; testId?: string }): ReactElement {
  const tone = value === null ? 'meter--unknown' : value >= 90 ? 'meter--high' : '';
  return (
    <div className={`meter ${tone}`} data-testid={testId}>
      <div className="meter__row">
        <span className="meter__label">{label}</span>
        <span className="meter__text">{text}</span>
      </div>
      <div className="meter__track" role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={value === null ? undefined : Math.round(value)} aria-valuetext={text}>
        <div className="meter__fill" style={{ width: `${value ?? 0}%` }} />
      </div>
    </div>
  );
}
