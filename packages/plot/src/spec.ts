/**
 * The Vega-Lite specification of a fit's metrics plot.
 * @module
 */
import { checkOptionKeys, describeValue, getMetrics, LuzError, type LuzRecords } from '@luzts/core';
import type { TopLevelSpec } from 'vega-lite';

/** Options of {@link plotFitSpec} and `plotFit`. */
export interface PlotFitOptions {
  /** Width of each metric's panel, in pixels. Default `400`. */
  width?: number;
  /** Height of each metric's panel, in pixels. Default `150`. */
  height?: number;
}

/** What can be plotted: a fitted model, or anything with its `records`. */
export interface Plottable {
  records: LuzRecords;
}

/** One point of the plot. */
export interface PlotRow {
  set: 'train' | 'valid';
  metric: string;
  epoch: number;
  value: number;
  /** `"<metric> (<set>)"`, the accessible name of the series' line. */
  series: string;
}

const KEYS = ['width', 'height'];

function size(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new LuzError(`plotFit(): '${name}' must be a positive number of pixels, got ${describeValue(value)}.`);
  }
  return value;
}

/** The points of every metric per epoch and set (`getMetrics`), non-finite values left out. */
export function plotRows(fitted: Plottable): PlotRow[] {
  if (!fitted || typeof fitted !== 'object' || !fitted.records?.metrics) {
    throw new LuzError(`plotFit(): expected a fitted model (the result of fit()), got ${describeValue(fitted)}.`);
  }
  return getMetrics(fitted)
    .filter((r) => Number.isFinite(r.value))
    .map((r) => ({ ...r, series: `${r.metric} (${r.set})` }));
}

/**
 * The Vega-Lite spec of {@link plotFit}: one panel per metric (rows, each with its own y scale),
 * value against epoch, train and valid as coloured lines with points. Render it yourself (e.g. with
 * `vega-embed` in a browser) or tweak it before rendering.
 *
 * @example
 * ```ts
 * const spec = plotFitSpec(fitted, { width: 300 });
 * await vegaEmbed('#chart', spec);
 * ```
 */
export function plotFitSpec(fitted: Plottable, options: PlotFitOptions = {}): TopLevelSpec {
  checkOptionKeys('plotFit()', options, KEYS);
  const width = size('width', options?.width, 400);
  const height = size('height', options?.height, 150);
  const values = plotRows(fitted);
  if (values.length === 0) throw new LuzError('plotFit(): the fitted model has no metrics to plot (records.metrics is empty).');
  const metrics = [...new Set(values.map((v) => v.metric))];
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } } as const;
  const y = { field: 'value', type: 'quantitative', title: null, scale: { zero: false } } as const;
  const color = { field: 'set', type: 'nominal', title: 'set', scale: { domain: ['train', 'valid'] } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values },
    facet: { row: { field: 'metric', type: 'nominal', title: null, sort: metrics, header: { labelAngle: 0, labelAlign: 'left' } } },
    spec: {
      width,
      height,
      layer: [
        { mark: { type: 'line' }, encoding: { x, y, color, description: { field: 'series', type: 'nominal' } } },
        { mark: { type: 'point', filled: true }, encoding: { x, y, color } },
      ],
    },
    resolve: { scale: { y: 'independent' } },
    config: { background: 'white' },
  };
}
