/** Shared fixtures of the tests (not exported from the package). */
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/** Asserts a tensor's values equal `expected` (a number for scalars) within `tol`. */
export function expectClose(t: tf.Tensor, expected: number | number[], tol = 1e-5): void {
  const got = Array.from(t.dataSync());
  const want = typeof expected === 'number' ? [expected] : expected;
  if (typeof expected === 'number') expect(t.rank).toBe(0);
  expect(got.length).toBe(want.length);
  got.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThan(tol));
}

// The inputs of scripts/torch_reference.py, verbatim.
export const X = [[1.0, -0.5, 2.0], [0.3, 0.8, -1.2], [-2.0, 1.5, 0.5], [0.0, 0.2, -0.1]];
export const T = [2, 0, 1, 1];
export const T_IGN = [2, -100, 1, 0];
export const W = [0.2, 1.0, 3.0];
export const P = [[0.1, 0.2, 0.7], [1.0, 0.0, 0.0], [0.25, 0.5, 0.25], [0.0, 0.6, 0.4]];
export const XK = [[[0.5, -1.0], [1.2, 0.1], [-0.3, 0.7]], [[2.0, 0.0], [-1.0, 0.4], [0.6, -0.8]]];
export const TK = [[2, 0], [1, 1]];
export const XB = [[0.5, -1.5], [2.0, 0.1], [-0.7, 3.0]];
export const YB = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.3]];
export const XR = XB;
export const YR = [[1.0, 0.0], [0.5, 1.0], [-1.0, 2.5]];
export const XM = [
  [0.2, -1.1, 0.7, 1.5], [-0.4, 0.9, 0.0, -2.0], [1.3, 0.3, -0.6, 0.8], [-1.7, 0.4, 1.1, 0.2],
  [0.6, 0.6, -0.9, -0.3], [2.2, -0.8, 0.5, 1.0], [-0.1, 1.9, -1.4, 0.4],
];

/** Cross-entropy of one row of logits and a class, in plain JS (log-sum-exp). */
export function ceRow(logits: number[], cls: number): number {
  const m = Math.max(...logits);
  const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
  return lse - logits[cls];
}
