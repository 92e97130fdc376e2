/**
 * `@luzts/lr-scheduler/node`: Node-only helpers (file output). The main entry runs in browsers.
 * @packageDocumentation
 */
import { writeFile } from 'node:fs/promises';
import type { LrRecord } from './lr-finder.js';
import { lrFinderSvg, type LrFinderSvgOptions } from './svg.js';

/**
 * Writes the lr-finder plot (see `lrFinderSvg`) to an SVG file (luz's `plot(lr_records)`).
 *
 * @param records - what `lrFinder()` returned.
 * @param path - the file to write, e.g. `'lr-finder.svg'`.
 * @param options - size, title, suggestion marker (see `LrFinderSvgOptions`).
 * @returns the SVG text that was written.
 * @example
 * ```ts
 * import { lrFinder } from '@luzts/lr-scheduler';
 * import { plotLrFinder } from '@luzts/lr-scheduler/node';
 *
 * const records = await lrFinder(module, data);
 * await plotLrFinder(records, 'lr-finder.svg');
 * ```
 */
export async function plotLrFinder(records: ReadonlyArray<Pick<LrRecord, 'lr' | 'loss'> & Partial<LrRecord>>, path: string, options: LrFinderSvgOptions = {}): Promise<string> {
  const svg = lrFinderSvg(records, options);
  await writeFile(path, svg, 'utf8');
  return svg;
}
