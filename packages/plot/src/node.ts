/**
 * `@luzts/plot/node`: Node helpers — write the plot of a fit to an SVG file.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import { plotFit } from './index.js';
import type { PlotFitOptions, Plottable } from './spec.js';

export * from './index.js';

/**
 * Renders {@link plotFit} and writes the SVG to `path`.
 *
 * @param fitted - the result of `fit()`.
 * @param path - the file to write (overwritten), e.g. `'metrics.svg'`.
 * @param options - panel `width` and `height`, as for {@link plotFit}.
 * @returns the SVG markup that was written.
 * @example
 * ```ts
 * import { writePlotFit } from '@luzts/plot/node';
 * await writePlotFit(fitted, 'metrics.svg');
 * ```
 */
export async function writePlotFit(fitted: Plottable, path: string, options: PlotFitOptions = {}): Promise<string> {
  const svg = await plotFit(fitted, options);
  await writeFile(path, svg);
  return svg;
}
