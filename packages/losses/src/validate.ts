/**
 * Argument checks shared by the losses: clear {@link LuzError}s naming the argument, the value
 * received and what was expected.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, describeValue as describe } from '@luzts/core';

export { checkOptionKeys, describeValue as describe } from '@luzts/core';

/** `shape` as `[2, 3]`. */
export const fmt = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/** Throws unless `x` is a float32 tensor (a prediction: logits, log-probabilities, values). */
export function checkPred(where: string, x: unknown): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new LuzError(`${where}: 'pred' must be a tf.Tensor, got ${describe(x)}.`);
  if (x.dtype !== 'float32') throw new LuzError(`${where}: 'pred' must be a float32 tensor, got ${describe(x)}.`);
}

/**
 * Throws unless `y` is a tensor. An object target most likely comes from mixup: the message says
 * how to wrap the loss.
 */
export function checkTargetTensor(where: string, y: unknown): asserts y is tf.Tensor {
  if (y instanceof tf.Tensor) return;
  const mixed = !!y && typeof y === 'object' && 'ys' in (y as object) && 'weight' in (y as object);
  const hint = mixed
    ? ' This is a mixup target { ys, weight }: wrap the loss with nnMixupLoss(loss), or use luzCallbackMixup({ autoLoss: true }).'
    : '';
  throw new LuzError(`${where}: 'target' must be a tf.Tensor, got ${describe(y)}.${hint}`);
}

/** Reads optional per-class weights (array or tensor) into a plain array, once, at construction. */
export function readVector(where: string, name: string, value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  let values: number[];
  if (value instanceof tf.Tensor) {
    if (value.rank !== 1) throw new LuzError(`${where}: '${name}' must be a 1-D tensor, got ${describe(value)}.`);
    values = Array.from(value.dataSync());
  } else if (Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array) {
    values = Array.from(value as ArrayLike<number>);
  } else {
    throw new LuzError(`${where}: '${name}' must be an array of numbers or a 1-D tensor, got ${describe(value)}.`);
  }
  if (values.length === 0 || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    throw new LuzError(`${where}: '${name}' must hold at least one finite number, got [${values.join(', ')}].`);
  }
  return values;
}
