// Charts arrive from the core as SVG *strings*. They are shown ONLY as an <img> with a data: URL:
// an image cannot run scripts or reach the page, whatever the SVG contains. Never insert the
// string as markup ({@html}, innerHTML).

export function svgDataUrl(svg: unknown): string {
  if (typeof svg !== 'string' || svg.trim() === '') return '';
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

/** Round a measured size to a step, so tiny layout jitter does not re-request charts. */
export function bucket(px: number, step = 20, min = 200, max = 4000): number {
  if (!Number.isFinite(px) || px <= 0) return min;
  return Math.max(min, Math.min(max, Math.round(px / step) * step));
}
