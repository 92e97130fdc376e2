/**
 * A tiny `{name:format}` formatter for checkpoint paths (luz used glue + sprintf).
 * @module
 */
import { LuzError } from '@luzts/core';

/** Values a path template may use. */
export interface TemplateValues {
  /** The epoch that just ended. */
  epoch: number;
  /** The monitored metric's value. */
  monitor: number;
  /** The monitored metric's name, e.g. `valid_loss`. */
  monitorName: string;
}

const NAMES = ['epoch', 'monitor', 'monitorName'];
const PLACEHOLDER = /\{([^{}:]*)(?::([^{}]*))?\}/g;
const FORMAT = /^(0?)(\d*)(?:\.(\d+))?([df])$/;

function formatValue(value: number | string, fmt: string | undefined, template: string): string {
  if (fmt === undefined || fmt === '') return String(value);
  const m = FORMAT.exec(fmt);
  if (!m || typeof value !== 'number') throw new LuzError(`Checkpoint path template ${JSON.stringify(template)}: unsupported format ':${fmt}' (use d or f, e.g. {epoch:02d}, {monitor:.3f}).`);
  const [, zero, width, precision, kind] = m;
  let text = kind === 'd' ? (precision !== undefined ? null : Math.trunc(value).toString()) : value.toFixed(precision === undefined ? 6 : Number(precision));
  if (text === null) throw new LuzError(`Checkpoint path template ${JSON.stringify(template)}: ':${fmt}' gives a precision to an integer format.`);
  const w = width ? Number(width) : 0;
  if (text.length < w) {
    const negative = text.startsWith('-');
    text = zero ? (negative ? '-' : '') + (negative ? text.slice(1) : text).padStart(w - (negative ? 1 : 0), '0') : text.padStart(w, ' ');
  }
  return text;
}

/**
 * Checks a template once (unknown names or formats are errors now, not after the first epoch).
 * @example
 * ```ts
 * checkTemplate('ckpt/epoch-{epoch:02d}-{monitor:.3f}.luzckpt');
 * ```
 */
export function checkTemplate(template: string): void {
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1].trim();
    if (!NAMES.includes(name)) {
      throw new LuzError(`Checkpoint path template ${JSON.stringify(template)}: unknown name '{${name}}'. Available: ${NAMES.map((n) => `{${n}}`).join(', ')}.`);
    }
  }
  formatTemplate(template, { epoch: 1, monitor: 0.5, monitorName: 'valid_loss' });
}

/**
 * Fills a template: `{epoch:02d}` → `03`, `{monitor:.3f}` → `0.125`, `{monitorName}` → `valid_loss`.
 * Formats: `[0][width]d` (integer) and `[0][width][.precision]f` (fixed-point, default precision 6).
 * @example
 * ```ts
 * formatTemplate('epoch-{epoch:02d}-{monitorName}-{monitor:.3f}.luzckpt', { epoch: 3, monitor: 0.12345, monitorName: 'valid_loss' });
 * // 'epoch-03-valid_loss-0.123.luzckpt'
 * ```
 */
export function formatTemplate(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (_, name: string, fmt: string | undefined) => {
    const key = name.trim() as keyof TemplateValues;
    if (!NAMES.includes(key)) throw new LuzError(`Checkpoint path template ${JSON.stringify(template)}: unknown name '{${key}}'.`);
    return formatValue(values[key], fmt, template);
  });
}
