import type { ReactElement, ReactNode } from 'react';
import { Icon, type IconName } from '../../components/icons';

/** One card of the Overview: an icon, a title, its facts, and at most one link. */
export function Panel({ icon, title, children, link, wide, testId }: { icon: IconName; title: string; children: ReactNode; link?: { href: string; text: string }; wide?: boolean; testId?: string }): ReactElement {
  return (
    <section className={wide ? 'stat stat--wide panel' : 'stat panel'} aria-label={title} data-testid={testId}>
      <div className="stat__head">
        <span className="stat__icon">
          <Icon name={icon} size={18} />
        </span>
        <h2 className="stat__label">{title}</h2>
      </div>
      {children}
      {link ? (
        <a className="stat__link" href={link.href}>
          {link.text} <span aria-hidden="true">→</span>
        </a>
      ) : null}
    </section>
  );
}
