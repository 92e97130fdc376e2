/**
 * `@luzts/plot`: luz's `plot()` of a fitted model — every metric per epoch, train vs valid — as an
 * SVG string rendered headless with Vega-Lite. Works in Node and browsers; `@luzts/plot/node` adds
 * `writePlotFit` to save it to a file.
 * @packageDocumentation
 */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { plotFitSpec, type PlotFitOptions, type Plottable } from './spec.js';

export { plotFitSpec, plotRows, type PlotFitOptions, type Plottable, type PlotRow } from './spec.js';

/**
 * Plots the metrics of a fit (luz's `plot.luz_module_fitted`): one panel per metric, value by
 * epoch, training and validation as two coloured series. Returns an SVG document as a string
 * (rendered by Vega without a canvas or DOM). Each series' line carries
 * `aria-label="<metric> (<set>)"`.
 *
 * @param fitted - the result of `fit()`.
 * @param options - `width` (default 400) and `height` (default 150) of each panel, in pixels.
 * @returns the SVG markup.
 * @example
 * ```ts
 * import { plotFit } from '@luzts/plot';
 * const svg = await plotFit(fitted, { width: 500 });
 * document.body.insertAdjacentHTML('beforeend', svg);
 * ```
 */
export async function plotFit(fitted: Plottable, options: PlotFitOptions = {}): Promise<string> {
  const { spec } = compile(plotFitSpec(fitted, options));
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
