/**
 * Small argument checks for the mixup package.
 * @internal
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError } from '@luzts/core';

/** Formats a value for an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (value instanceof tf.Tensor) return `a ${value.dtype} tensor of shape [${value.shape.join(', ')}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  const ctor = (value as object).constructor?.name;
  return ctor && ctor !== 'Object' ? `an instance of ${ctor}` : 'an object';
}

/** Throws when `options` is not an object or has keys outside `allowed`. */
export function checkOptionKeys(where: string, options: unknown, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new LuzError(`${where}: expected an options object such as { alpha: 0.4 }, got ${describe(options)}.`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new LuzError(`${where}: unknown option '${key}'. Expected one of: ${allowed.join(', ')}.`);
  }
}
