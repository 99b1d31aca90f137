import type { MouseEvent, ReactElement, ReactNode } from 'react';
import { desktopBridge } from '../../lib/desktop';

/** A link to a page on the Hub: in the desktop app the system browser opens it (the app window never navigates away). */
export function ExternalLink({ href, className, children, testId }: { href: string; className?: string; children: ReactNode; testId?: string }): ReactElement {
  const onClick = (event: MouseEvent) => {
    const bridge = desktopBridge();
    if (!bridge) return;
    event.preventDefault();
    void bridge.openExternal(href);
  };
  return (
    <a href={href} className={className} target="_blank" rel="noopener noreferrer" onClick={onClick} data-testid={testId}>
      {children}
    </a>
  );
}
