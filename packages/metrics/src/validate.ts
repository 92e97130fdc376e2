/**
 * Argument checks shared by the metrics: option keys, thresholds, tensor shapes.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, checkOptionKeys, describeValue as show } from '@luzts/core';

export { describeValue as show } from '@luzts/core';

/** `(3, 1)`-style shape text. */
export function shapeOf(t: tf.Tensor): string {
  return `(${t.shape.join(', ')})`;
}

/** Throws a LuzError when `options` is not an object or has keys outside `allowed`. */
export function checkOptions(what: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  checkOptionKeys(what, options, allowed);
  return (options ?? {}) as Record<string, unknown>;
}

/** A finite number, else a LuzError naming the option. */
export function checkFinite(what: string, name: string, value: unknown, range?: [number, number]): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new LuzError(`${what}: '${name}' must be a finite number, got ${show(value)}.`);
  }
  if (range && (value < range[0] || value > range[1])) {
    throw new LuzError(`${what}: '${name}' must be in [${range[0]}, ${range[1]}], got ${value}.`);
  }
  return value;
}

/** The tensor, else a LuzError saying which argument of update() was wrong. */
export function asTensor(abbrev: string, name: 'preds' | 'target', value: unknown): tf.Tensor {
  if (!(value instanceof tf.Tensor)) {
    throw new LuzError(`${abbrev} metric: '${name}' must be a tf.Tensor, got ${show(value)}.`);
  }
  return value;
}

/** Both tensors with identical shapes (never broadcast), else a LuzError showing both shapes. */
export function sameShape(abbrev: string, preds: unknown, target: unknown): [tf.Tensor, tf.Tensor] {
  const p = asTensor(abbrev, 'preds', preds);
  const t = asTensor(abbrev, 'target', target);
  if (!tf.util.arraysEqual(p.shape, t.shape)) {
    throw new LuzError(
      `${abbrev} metric: 'preds' has shape ${shapeOf(p)} but 'target' has shape ${shapeOf(t)}; ` +
        'expected identical shapes (they are never broadcast). Reshape one of them, e.g. target.reshape(preds.shape).',
    );
  }
  return [p, t];
}
