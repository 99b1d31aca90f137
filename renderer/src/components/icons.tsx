import type { ReactElement } from 'react';

// A handful of 20px stroke icons, drawn inline: no icon font, nothing fetched.
const PATHS = {
  overview: 'M3 3h6v8H3zM11 3h6v5h-6zM11 10h6v7h-6zM3 13h6v4H3z',
  models: 'M10 2.5l7 3.5v8l-7 3.5-7-3.5V6zM3 6l7 3.5L17 6M10 9.5v8',
  connection: 'M7 10h6M5.5 13.5a3.5 3.5 0 010-7H8M12 6.5h2.5a3.5 3.5 0 010 7H12',
  huggingface: 'M10 17.5a7.5 7.5 0 100-15 7.5 7.5 0 000 15zM7 8.5v.01M13 8.5v.01M6.8 11.5a3.6 3.6 0 006.4 0',
  tokens: 'M12.5 7.5a3 3 0 11-6 0 3 3 0 016 0zM11.6 9.6l5.4 5.4M14.5 12.5l1.5-1.5M16 14l1.5-1.5',
  check: 'M4.5 10.5l3.5 3.5 7.5-8',
  warning: 'M10 3l8 14H2zM10 8.5v3.5M10 14.5v.01',
  close: 'M5 5l10 10M15 5L5 15',
  copy: 'M7 7h9v10H7zM4 13V3h9',
  eye: 'M1.5 10s3-6 8.5-6 8.5 6 8.5 6-3 6-8.5 6-8.5-6-8.5-6zM10 12.5a2.5 2.5 0 100-5 2.5 2.5 0 000 5z',
  eyeOff: 'M3 3l14 14M8.2 4.3A8.7 8.7 0 0110 4c5.5 0 8.5 6 8.5 6a14 14 0 01-2.3 3M5.2 5.8C2.8 7.4 1.5 10 1.5 10s3 6 8.5 6a8 8 0 004-1.1M8.2 8.3a2.5 2.5 0 003.5 3.5',
  external: 'M11 3h6v6M17 3l-8 8M15 12v5H3V5h5',
  plus: 'M10 4v12M4 10h12',
  refresh: 'M16 4v4.5h-4.5M4 16v-4.5h4.5M5.2 7.5A5.5 5.5 0 0115.5 8M14.8 12.5A5.5 5.5 0 014.5 12',
  shield: 'M10 2.5l6 2.5v4.5c0 4-2.6 6.7-6 8-3.4-1.3-6-4-6-8V5z',
  globe: 'M10 17.5a7.5 7.5 0 100-15 7.5 7.5 0 000 15zM2.5 10h15M10 2.5c2 2.2 3 4.7 3 7.5s-1 5.3-3 7.5c-2-2.2-3-4.7-3-7.5s1-5.3 3-7.5z',
  monitor: 'M2.5 4h15v9.5h-15zM7 16.5h6M10 13.5v3',
  key: 'M12.5 7.5a3 3 0 11-6 0 3 3 0 016 0zM11.6 9.6l5.4 5.4M14.5 12.5l1.5-1.5',
  activity: 'M2 10h3.5l2.5-6 4 12 2.5-6H18',
  qr: 'M3 3h5v5H3zM12 3h5v5h-5zM3 12h5v5H3zM12 12h2v2h-2zM15 15h2v2h-2zM15 12h2M12 15v2',
  chat: 'M3 4h14v9.5H9l-4 3v-3H3zM6.5 8h7M6.5 10.5h4.5',
  play: 'M6 4l10 6-10 6z',
  stop: 'M5 5h10v10H5z',
  send: 'M3 10l14-6-5 13-2.5-5.5zM9.5 11.5L17 4',
  log: 'M4 4h12M4 8h12M4 12h8M4 16h10',
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 20 }: { name: IconName; size?: number }): ReactElement {
  return (
    <svg className="icon" width={size} height={size} viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} />
    </svg>
  );
}

export function LogoMark({ size = 28 }: { size?: number }): ReactElement {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="8" fill="var(--accent)" />
      <circle cx="16" cy="16" r="8.5" fill="none" stroke="var(--accent-fg)" strokeWidth="3" />
      <circle cx="16" cy="16" r="3" fill="var(--accent-fg)" opacity="0.7" />
    </svg>
  );
}
