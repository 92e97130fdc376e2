/**
 * A small, dependency-free SVG plot of {@link LrRecords} (luz's `plot.lr_records`): loss against
 * the learning rate on a log axis, raw loss dotted, smoothed loss solid, the suggestion marked.
 * @module
 */
import type { LrRecord } from './lr-finder.js';
import { smoothLosses, suggestLr } from './lr-finder.js';

/** Options of {@link lrFinderSvg}. */
export interface LrFinderSvgOptions {
  /** Width in pixels. Default 640. */
  width?: number;
  /** Height in pixels. Default 400. */
  height?: number;
  /** Title at the top. Default none. */
  title?: string;
  /** Mark the suggested learning rate with a vertical line. Default true. */
  showSuggestion?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (x: number) => (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(1) : Number(x.toPrecision(3)).toString());
const r2 = (x: number) => Math.round(x * 100) / 100;

/** Evenly spaced "nice" ticks covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || Math.abs(hi) || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/**
 * Renders the lr-finder curve as an SVG document (a string; works in browsers and Node).
 * Points after the loss diverges (smoothed loss > 4 × its minimum) are clipped from the y range.
 *
 * @example
 * ```ts
 * const records = await lrFinder(module, data);
 * document.body.innerHTML = lrFinderSvg(records, { title: 'LR finder' });
 * ```
 */
export function lrFinderSvg(records: ReadonlyArray<Pick<LrRecord, 'lr' | 'loss'> & Partial<LrRecord>>, options: LrFinderSvgOptions = {}): string {
  const { width = 640, height = 400, title, showSuggestion = true } = options;
  const smoothed = records.every((r) => typeof r.smoothedLoss === 'number') ? records.map((r) => r.smoothedLoss as number) : smoothLosses(records.map((r) => r.loss));
  const pts = records.map((r, i) => ({ x: Math.log10(r.lr), raw: r.loss, smooth: smoothed[i] })).filter((p) => Number.isFinite(p.x));
  const m = { left: 64, right: 20, top: title ? 36 : 16, bottom: 48 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const parts: string[] = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="white"/>`,
  ];
  if (title) parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  const finite = pts.filter((p) => Number.isFinite(p.smooth));
  if (finite.length === 0) {
    parts.push(`<text x="${width / 2}" y="${height / 2}" text-anchor="middle">No finite loss to plot</text>`, '</svg>');
    return parts.join('\n');
  }
  // y range: the smoothed curve until it diverges, and the raw losses within it.
  let minS = Infinity;
  let maxS = -Infinity;
  for (const p of finite) {
    if (p.smooth > 4 * minS && minS > 0) break;
    minS = Math.min(minS, p.smooth);
    maxS = Math.max(maxS, p.smooth);
  }
  const raws = pts.map((p) => p.raw).filter((v) => Number.isFinite(v) && v <= maxS * 1.25 + 1e-12);
  const yLo = Math.min(minS, ...raws);
  const yHi = Math.max(maxS, ...raws);
  const pad = (yHi - yLo) * 0.05 || Math.abs(yHi) * 0.05 || 1;
  const y0 = yLo - pad;
  const y1 = yHi + pad;
  const xs = pts.map((p) => p.x);
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs) === x0 ? x0 + 1 : Math.max(...xs);
  const sx = (x: number) => r2(m.left + ((x - x0) / (x1 - x0)) * w);
  const sy = (y: number) => r2(m.top + (1 - (y - y0) / (y1 - y0)) * h);

  parts.push(`<defs><clipPath id="plot-area"><rect x="${m.left}" y="${m.top}" width="${w}" height="${h}"/></clipPath></defs>`);
  // Axes, grid and ticks.
  parts.push(`<g stroke="#ddd">`);
  const xTicks: number[] = [];
  for (let d = Math.ceil(x0); d <= Math.floor(x1); d++) xTicks.push(d);
  for (const d of xTicks) parts.push(`<line x1="${sx(d)}" y1="${m.top}" x2="${sx(d)}" y2="${m.top + h}"/>`);
  const yTicks = niceTicks(y0, y1).filter((t) => t >= y0 && t <= y1);
  for (const t of yTicks) parts.push(`<line x1="${m.left}" y1="${sy(t)}" x2="${m.left + w}" y2="${sy(t)}"/>`);
  parts.push(`</g>`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#333"/>`);
  for (const d of xTicks) parts.push(`<text x="${sx(d)}" y="${m.top + h + 16}" text-anchor="middle">1e${d}</text>`);
  for (const t of yTicks) parts.push(`<text x="${m.left - 6}" y="${sy(t) + 4}" text-anchor="end">${fmt(t)}</text>`);
  parts.push(`<text x="${m.left + w / 2}" y="${height - 10}" text-anchor="middle">Learning Rate</text>`);
  parts.push(`<text x="16" y="${m.top + h / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + h / 2})">Loss</text>`);
  // Curves.
  const line = (key: 'raw' | 'smooth') =>
    pts.filter((p) => Number.isFinite(p[key])).map((p) => `${sx(p.x)},${sy(Math.min(Math.max(p[key], y0 - (y1 - y0)), y1 + (y1 - y0)))}`).join(' ');
  parts.push(`<g clip-path="url(#plot-area)" fill="none">`);
  parts.push(`<polyline points="${line('raw')}" stroke="#888" stroke-width="1" stroke-dasharray="2,3"/>`);
  parts.push(`<polyline points="${line('smooth')}" stroke="#1f77b4" stroke-width="2"/>`);
  const suggestion = suggestLr(records.map((r, i) => ({ lr: r.lr, smoothedLoss: smoothed[i] })));
  if (showSuggestion && Number.isFinite(suggestion)) {
    const x = sx(Math.log10(suggestion));
    parts.push(`<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + h}" stroke="#d62728" stroke-dasharray="6,4"/>`);
    parts.push(`</g>`);
    parts.push(`<text x="${x + 4}" y="${m.top + 14}" fill="#d62728">suggested: ${esc(fmt(suggestion))}</text>`);
  } else {
    parts.push(`</g>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
