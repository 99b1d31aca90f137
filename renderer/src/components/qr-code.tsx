import { useMemo, type ReactElement } from 'react';
import qrcode from 'qrcode-generator';

const QUIET = 4;

/** Drawn as one SVG path by React: no canvas, no data: image, nothing the CSP must allow. */
export default function QrCode({ value, label, size = 184 }: { value: string; label: string; size?: number }): ReactElement {
  const { path, modules } = useMemo(() => {
    const qr = qrcode(0, 'M');
    qr.addData(value);
    qr.make();
    const count = qr.getModuleCount();
    let d = '';
    for (let row = 0; row < count; row++) {
      for (let col = 0; col < count; col++) {
        if (!qr.isDark(row, col)) continue;
        let run = 1;
        while (col + run < count && qr.isDark(row, col + run)) run++;
        d += `M${col + QUIET} ${row + QUIET}h${run}v1h-${run}z`;
        col += run - 1;
      }
    }
    return { path: d, modules: count + QUIET * 2 };
  }, [value]);
  // Always dark on light: scanners expect it, whatever the color scheme.
  return (
    <svg className="qr" role="img" aria-label={label} width={size} height={size} viewBox={`0 0 ${modules} ${modules}`} shapeRendering="crispEdges">
      <rect width={modules} height={modules} fill="#fff" />
      <path d={path} fill="#111" />
    </svg>
  );
}
