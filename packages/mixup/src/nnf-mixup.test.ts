import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LuzError } from '@luzts/core';
import { nnCrossEntropyLoss, nnMixupLoss } from '@luzts/losses';
import { nnfMixup } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Reference mixing in plain JS: row i of the flattened input is w_i*x_i + (1 - w_i)*x_perm[i]. */
function mixRows(x: number[], batch: number, w: number[], perm: number[]): number[] {
  const per = x.length / batch;
  return x.map((_, k) => {
    const i = Math.floor(k / per);
    return w[i] * x[k] + (1 - w[i]) * x[perm[i] * per + (k % per)];
  });
}

function ce(logits: number[], cls: number): number {
  const m = Math.max(...logits);
  return m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0)) - logits[cls];
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(tol);
}

// Port of luz's tests/testthat/test-callbacks-mixup.R, "mixup logic works".
describe('nnfMixup (port of test-callbacks-mixup.R)', () => {
  it('mixup logic works', () => {
    const x = tf.ones([10, 768]);
    const y = tf.ones([10], 'int32');
    const weight = tf.fill([10], 0.9).reshape([10, 1]);
    const { x: mixedX, y: mixedY } = nnfMixup(x, y, weight);
    expect(mixedX.slice([0, 0], [1, 768]).mean().dataSync()[0]).toBeCloseTo(x.slice([0, 0], [1, 768]).mean().dataSync()[0], 6);
    expect(Array.from(mixedY.ys[0].dataSync())).toEqual(Array.from(mixedY.ys[1].dataSync()));
    expect(mixedY.weight.shape).toEqual([10]);
  });
});

describe('nnfMixup numerics with per-sample weights', () => {
  const batch = 4;
  const w = [0.5, 0.7, 0.95, 1];
  const perm = [2, 0, 3, 1];
  const y = [0, 1, 2, 1];

  for (const shape of [[4, 6], [4, 2, 3], [4, 2, 3, 2]]) {
    it(`mixes a rank-${shape.length} input per sample: w_i*x_i + (1-w_i)*x_perm[i]`, () => {
      const n = shape.reduce((a, b) => a * b);
      const xs = Array.from({ length: n }, (_, k) => Math.sin(k) * 2);
      const x = tf.tensor(xs, shape);
      const yt = tf.tensor1d(y, 'int32');
      const out = nnfMixup(x, yt, tf.tensor1d(w), { permutation: perm });
      expect(out.x.shape).toEqual(shape);
      close(out.x.dataSync(), mixRows(xs, batch, w, perm));
      expect(Array.from(out.y.ys[0].dataSync())).toEqual(y);
      expect(Array.from(out.y.ys[1].dataSync())).toEqual(perm.map((j) => y[j]));
      expect(out.y.weight.shape).toEqual([batch]);
      close(out.y.weight.dataSync(), w);

      // End to end with nnMixupLoss: logits = the mixed input flattened per sample (first 3 values).
      const logits = out.x.reshape([batch, -1]).slice([0, 0], [batch, 3]);
      const mixedRows = mixRows(xs, batch, w, perm);
      const per = n / batch;
      let expected = 0;
      for (let i = 0; i < batch; i++) {
        const row = mixedRows.slice(i * per, i * per + 3);
        expected += w[i] * ce(row, y[i]) + (1 - w[i]) * ce(row, y[perm[i]]);
      }
      const loss = nnMixupLoss(nnCrossEntropyLoss())(logits, out.y);
      expect(loss.dataSync()[0]).toBeCloseTo(expected / batch, 5);
    });
  }

  it('with all weights 1 the input is unchanged and the mixup loss equals the plain loss', () => {
    const x = tf.randomNormal([6, 2, 5], 0, 1, 'float32', 3);
    const yt = tf.tensor1d([0, 4, 2, 3, 1, 0], 'int32');
    const out = nnfMixup(x, yt, tf.ones([6]), { permutation: [5, 4, 3, 2, 1, 0] });
    close(out.x.dataSync(), x.dataSync());
    const logits = out.x.reshape([6, 10]).slice([0, 0], [6, 5]);
    const mixed = nnMixupLoss(nnCrossEntropyLoss())(logits, out.y).dataSync()[0];
    expect(mixed).toBeCloseTo(nnCrossEntropyLoss()(logits, yt).dataSync()[0], 6);
  });

  it('mixes every tensor of a multi-input batch with the same permutation and weights', () => {
    const a = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
    const b = tf.tensor1d([10, 20, 30]);
    const out = nnfMixup([a, b], tf.tensor1d([0, 1, 2], 'int32'), [0.5, 1, 0.75], { permutation: [1, 2, 0] });
    close(out.x[0].dataSync(), [2, 3, 3, 4, 0.75 * 5 + 0.25 * 1, 0.75 * 6 + 0.25 * 2]);
    close(out.x[1].dataSync(), [15, 20, 0.75 * 30 + 0.25 * 10]);
  });

  it('draws a random permutation by default', () => {
    const out = nnfMixup(tf.range(0, 50).toFloat().reshape([50, 1]), tf.range(0, 50, 1, 'int32'), 1);
    const p = Array.from(out.y.ys[1].dataSync());
    expect([...p].sort((u, v) => u - v)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('frees its intermediates', () => {
    const x = tf.randomNormal([5, 3]);
    const y = tf.tensor1d([0, 1, 0, 1, 0], 'int32');
    const before = tf.memory().numTensors;
    const out = nnfMixup(x, y, [0.5, 0.6, 0.7, 0.8, 0.9]);
    // mixed x, y2, weight
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([out.x, out.y.ys[1], out.y.weight]);
  });

  it('rejects bad inputs with clear errors', () => {
    const x = tf.zeros([3, 2]);
    const y = tf.tensor1d([0, 1, 2], 'int32');
    expect(() => nnfMixup(x, y, [1, 1])).toThrow(/'weight' must hold one value per sample \(3\)/);
    expect(() => nnfMixup(x, y, 1, { permutation: [0, 0, 1] })).toThrow(/'permutation' must be a permutation of 0\.\.2/);
    expect(() => nnfMixup(x, y, 1, { permutation: [0, 1] })).toThrow(/permutation of 0\.\.2/);
    expect(() => nnfMixup(tf.zeros([3, 2], 'int32'), y, 1)).toThrow(/'x' must be float32 to be mixed/);
    expect(() => nnfMixup(tf.zeros([2, 2]), y, 1)).toThrow(/'x' has 2 samples but 'y' has 3/);
    expect(() => nnfMixup(x, tf.scalar(1), 1)).toThrow(LuzError);
    expect(() => nnfMixup(x, y, tf.ones([3], 'int32'))).toThrow(/'weight' must be float32/);
  });
});
