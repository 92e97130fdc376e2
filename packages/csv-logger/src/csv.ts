/**
 * CSV helpers of the CSV logger: RFC 4180 quoting, flattening of named metric values, and a table
 * whose columns widen as new metrics appear.
 * @module
 */
import type { MetricValue } from '@luzts/core';

/** One cell: a string as is, a number in JavaScript's shortest round-trip form. */
export type Cell = string | number;

/**
 * Quotes a field as RFC 4180 requires: fields holding a comma, a double quote, a CR or a LF are
 * wrapped in double quotes, and inner double quotes are doubled.
 */
export function quoteField(value: Cell | undefined): string {
  if (value === undefined) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A CSV line (with its trailing `\n`) from cells. */
export function csvLine(cells: ReadonlyArray<Cell | undefined>): string {
  return `${cells.map(quoteField).join(',')}\n`;
}

/**
 * Flattens an epoch's metrics into columns: a plain value keeps its name, a named value
 * (several optimizers) becomes one column per name, `loss.gen`, `loss.disc`.
 */
export function flattenMetrics(metrics: Record<string, MetricValue>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value === 'number') out[name] = value;
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out[`${name}.${k}`] = v;
  }
  return out;
}

/**
 * Rows of the log with the union of their columns, in order of first appearance. Knows whether a
 * new batch of rows widened the header (then the whole file must be rewritten).
 */
export class CsvTable {
  /** Column names after `epoch` and `set`. */
  readonly columns: string[] = [];
  /** Every row written so far, by column name. */
  readonly rows: Array<Record<string, Cell>> = [];

  /** Adds rows; returns true when they brought new columns. */
  add(rows: Array<Record<string, Cell>>): boolean {
    let widened = false;
    for (const row of rows) {
      for (const key of Object.keys(row)) {
        if (key !== 'epoch' && key !== 'set' && !this.columns.includes(key)) {
          this.columns.push(key);
          widened = true;
        }
      }
      this.rows.push(row);
    }
    return widened;
  }

  /** The header line. */
  header(): string {
    return csvLine(['epoch', 'set', ...this.columns]);
  }

  /** The lines of `rows` under the current header (absent cells are empty). */
  lines(rows: ReadonlyArray<Record<string, Cell>>): string {
    const names = ['epoch', 'set', ...this.columns];
    return rows.map((row) => csvLine(names.map((n) => row[n]))).join('');
  }

  /** The whole file: header and every row. */
  text(): string {
    return this.header() + this.lines(this.rows);
  }
}
