import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LuzError } from '@luzts/core';
import { computeMixupLoss, isMixedTarget, isMixupLoss, nnCrossEntropyLoss, nnMixupLoss, nnMseLoss, type LuzLoss } from './index.js';
import { XM, ceRow, expectClose } from './test-helpers.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// Port of luz's tests/testthat/test_losses.R ("nn_mixup_loss works when used with cross entropy").
// R's 1-based classes 1 and 4 are 0 and 3 here. luz weights y2 by w (torch_lerp(l1, l2, w)); this
// port weights the ORIGINAL target y1 by w (documented convention, see README), so the formula
// below is mean(l2 + w * (l1 - l2)). Expected values: PyTorch 1.13, scripts/torch_reference.py.
describe('nnMixupLoss (port of test_losses.R)', () => {
  const input = () => tf.tensor2d(XM);
  const t1 = () => tf.fill([7], 0, 'int32');
  const t2 = () => tf.fill([7], 3, 'int32');

  it('works when used with cross entropy: equals mean(w*l1 + (1-w)*l2)', () => {
    const mixupLoss = nnMixupLoss(nnCrossEntropyLoss());
    const weight = tf.fill([7], 0.9);
    const loss = mixupLoss(input(), { ys: [t1(), t2()], weight });
    const unreduced = nnCrossEntropyLoss({ reduction: 'none' });
    const l1 = unreduced(input(), t1());
    const l2 = unreduced(input(), t2());
    expectClose(loss, l2.add(l1.sub(l2).mul(0.9)).mean().dataSync()[0]);
    expectClose(l1, [1.8856368, 1.8505028, 0.7532911, 3.4749654, 0.9668697, 0.4276602, 2.3331443]);
    expectClose(l2, [0.5856368, 3.4505028, 1.2532911, 1.5749654, 1.8668697, 1.6276602, 1.8331443]);
    expectClose(loss, 1.6774386); // torch: mean(lerp(l2, l1, 0.9))
  });

  it('with all weights 1 equals the plain cross entropy of the original target', () => {
    const loss = nnMixupLoss(nnCrossEntropyLoss())(input(), { ys: [t1(), t2()], weight: tf.ones([7]) });
    expectClose(loss, nnCrossEntropyLoss()(input(), t1()).dataSync()[0]);
    expectClose(loss, 1.6702957); // torch: F.cross_entropy(XM, t1)
  });

  it('is the wrapped loss (with its own reduction) for a plain target', () => {
    const mixup = nnMixupLoss(nnCrossEntropyLoss({ reduction: 'sum' }));
    expectClose(mixup(input(), t1()), XM.reduce((s, row) => s + ceRow(row, 0), 0), 1e-4);
    expect(isMixupLoss(mixup)).toBe(true);
    expect(isMixupLoss(nnCrossEntropyLoss())).toBe(false);
  });
});

describe('nnMixupLoss numerics with per-sample weights', () => {
  const weights = [0.5, 0.62, 0.75, 0.9, 1.0, 0.55, 0.8];
  const y1 = [0, 1, 2, 3, 0, 1, 2];
  const y2 = [3, 3, 0, 1, 2, 1, 0];

  it('class targets: mean_i(w_i*ce(x_i, y1_i) + (1-w_i)*ce(x_i, y2_i)), weights per sample', () => {
    const expected = XM.reduce((s, row, i) => s + weights[i] * ceRow(row, y1[i]) + (1 - weights[i]) * ceRow(row, y2[i]), 0) / 7;
    const target = { ys: [tf.tensor1d(y1, 'int32'), tf.tensor1d(y2, 'int32')] as [tf.Tensor, tf.Tensor], weight: tf.tensor1d(weights) };
    expectClose(nnMixupLoss(nnCrossEntropyLoss())(tf.tensor2d(XM), target), expected);
    // luz's weight shape (B, 1, 1, 1) (from a rank-4 input) is applied per sample too, not averaged
    const w4 = { ...target, weight: tf.tensor4d(weights, [7, 1, 1, 1]) };
    expectClose(nnMixupLoss(nnCrossEntropyLoss())(tf.tensor2d(XM), w4), expected);
    const wbar = weights.reduce((a, b) => a + b) / 7;
    const quirk = XM.reduce((s, row, i) => s + wbar * ceRow(row, y1[i]) + (1 - wbar) * ceRow(row, y2[i]), 0) / 7;
    expect(Math.abs(expected - quirk)).toBeGreaterThan(1e-3); // the check can tell the two apart
  });

  it('per-element losses of rank 3 and 4 are weighted per sample', () => {
    for (const shape of [[7, 2, 3], [7, 2, 2, 2]]) {
      const n = shape.reduce((a, b) => a * b);
      const per = n / 7;
      const pred = Array.from({ length: n }, (_, k) => Math.sin(k));
      const a = Array.from({ length: n }, (_, k) => Math.cos(k));
      const b = Array.from({ length: n }, (_, k) => Math.cos(2 * k) - 0.5);
      let expected = 0;
      for (let k = 0; k < n; k++) {
        const w = weights[Math.floor(k / per)];
        expected += w * (pred[k] - a[k]) ** 2 + (1 - w) * (pred[k] - b[k]) ** 2;
      }
      expected /= n;
      const target = { ys: [tf.tensor(a, shape), tf.tensor(b, shape)] as [tf.Tensor, tf.Tensor], weight: weights };
      expectClose(nnMixupLoss(nnMseLoss())(tf.tensor(pred, shape), target), expected);
    }
  });

  it('K-dimensional cross entropy (B, C, d) is weighted per sample', () => {
    const x = tf.randomNormal([7, 4, 3], 0, 1, 'float32', 5);
    const ya = tf.randomUniform([7, 3], 0, 4, 'int32', 6);
    const yb = tf.randomUniform([7, 3], 0, 4, 'int32', 7);
    const none = nnCrossEntropyLoss({ reduction: 'none' });
    const [la, lb] = [none(x, ya).arraySync() as number[][], none(x, yb).arraySync() as number[][]];
    let expected = 0;
    for (let i = 0; i < 7; i++) for (let j = 0; j < 3; j++) expected += weights[i] * la[i][j] + (1 - weights[i]) * lb[i][j];
    expectClose(nnMixupLoss(nnCrossEntropyLoss())(x, { ys: [ya, yb], weight: weights }), expected / 21);
  });
});

describe("cross entropy's fused mixup form (one log-softmax for both targets)", () => {
  const weights = tf.tensor1d([0.5, 0.62, 0.75, 0.9, 1.0, 0.55, 0.8]);
  const y1 = () => tf.tensor1d([0, 1, 2, 3, 0, 1, 2], 'int32');
  const y2 = () => tf.tensor1d([3, 3, 0, 1, 2, 1, 0], 'int32');
  /** The two-loss path: a plain function is not a LuzLoss, so computeMixupLoss cannot fuse it. */
  const twoLosses = (ce: LuzLoss, ys: [tf.Tensor, tf.Tensor]) => {
    const none = (p: tf.Tensor, t: tf.Tensor) => {
      const r = ce.reduction;
      ce.reduction = 'none';
      try {
        return ce(p, t);
      } finally {
        ce.reduction = r;
      }
    };
    return computeMixupLoss(none, tf.tensor2d(XM), { ys, weight: weights }).dataSync()[0];
  };

  it.each([
    ['plain', {}],
    ['class weights', { weight: [0.5, 2, 1, 3] }],
    ['label smoothing', { labelSmoothing: 0.1 }],
    ['both', { weight: [0.5, 2, 1, 3], labelSmoothing: 0.2 }],
  ])('equals the two-loss path: %s', (_name, options) => {
    const ce = nnCrossEntropyLoss({ reduction: 'none', ...options });
    const fused = ce.mixedPerSample!(tf.tensor2d(XM), y1(), y2(), weights)!;
    expect(fused.shape).toEqual([7]);
    expectClose(fused.mean(), twoLosses(ce, [y1(), y2()]));
    expectClose(nnMixupLoss(ce)(tf.tensor2d(XM), { ys: [y1(), y2()], weight: weights }), twoLosses(ce, [y1(), y2()]));
  });

  it('falls back to the two-loss path when a target is ignored', () => {
    const ce = nnCrossEntropyLoss({ ignoreIndex: 3 });
    expect(ce.mixedPerSample!(tf.tensor2d(XM), y1(), y2(), weights)).toBeUndefined();
    expectClose(nnMixupLoss(ce)(tf.tensor2d(XM), { ys: [y1(), y2()], weight: weights }), twoLosses(ce, [y1(), y2()]));
  });
});

describe('nnMixupLoss reduction handling and errors', () => {
  const target = () => ({ ys: [tf.tensor1d([0, 1], 'int32'), tf.tensor1d([1, 0], 'int32')] as [tf.Tensor, tf.Tensor], weight: 0.7 });

  it("sets reduction to 'none' during the call and restores it, even on error", () => {
    const ce = nnCrossEntropyLoss({ reduction: 'sum' });
    const seen: string[] = [];
    const spy = Object.assign((p: tf.Tensor, t: tf.Tensor) => {
      seen.push(spy.reduction);
      return ce(p, t);
    }, {}) as unknown as LuzLoss;
    Object.defineProperty(spy, 'reduction', { get: () => ce.reduction, set: (v) => { ce.reduction = v; }, enumerable: true });
    nnMixupLoss(spy)(tf.zeros([2, 2]), target());
    expect(seen).toEqual(['none', 'none']);
    expect(ce.reduction).toBe('sum');
    // error: 3 classes in the target but 2 in the prediction
    const bad = { ...target(), ys: [tf.tensor1d([0, 2], 'int32'), tf.tensor1d([1, 0], 'int32')] as [tf.Tensor, tf.Tensor] };
    expect(() => nnMixupLoss(ce)(tf.zeros([2, 2]), bad)).toThrow(/must lie in \[0, 1\]/);
    expect(ce.reduction).toBe('sum');
  });

  it('errors if the loss has no reduction', () => {
    expect(() => nnMixupLoss(((p: tf.Tensor) => p.mean()) as never)).toThrow(/the 'reduction' attribute must be supported by the loss/);
    expect(() => nnMixupLoss('ce' as never)).toThrow(LuzError);
  });

  it('validates the mixed target', () => {
    const loss = nnMixupLoss(nnCrossEntropyLoss());
    expect(() => loss(tf.zeros([2, 2]), { ...target(), weight: [0.5, 0.5, 0.5] })).toThrow(/one value per sample \(2\), got shape \[3\]/);
    expect(() => loss(tf.zeros([2, 2]), { ...target(), weight: 'x' as never })).toThrow(/'weight' must be a tensor, an array or a number/);
    expect(() => loss(tf.zeros([2, 2]), { ys: [tf.tensor1d([0, 1], 'int32'), tf.tensor1d([0], 'int32')], weight: 1 })).toThrow(/different batch sizes/);
  });

  it('computeMixupLoss accepts a plain per-sample function and rejects a reduced one', () => {
    const perSample = (p: tf.Tensor, t: tf.Tensor) => p.sub(t).square().mean(1);
    const pred = tf.tensor2d([[1, 2], [3, 4]]);
    const mixed = { ys: [tf.zeros([2, 2]), tf.ones([2, 2])] as [tf.Tensor, tf.Tensor], weight: [1, 0.5] };
    // sample 0: w=1 → mean((1,2)^2) = 2.5; sample 1: 0.5*12.5 + 0.5*((2^2+3^2)/2 = 6.5) = 9.5
    expectClose(computeMixupLoss(perSample, pred, mixed), (2.5 + 9.5) / 2);
    expect(() => computeMixupLoss((p, t) => p.sub(t).square().mean(), pred, mixed)).toThrow(/unreduced per-sample losses \(first dimension 2\) for ys\[0\], got shape \[\]/);
    expect(isMixedTarget(mixed)).toBe(true);
    expect(isMixedTarget(pred)).toBe(false);
  });
});
