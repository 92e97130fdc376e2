import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LuzError } from '@luzts/core';
import { nnCrossEntropyLoss, nnNllLoss } from './index.js';
import { P, T, TK, T_IGN, W, X, XK, ceRow, expectClose } from './test-helpers.js';

// Expected values: PyTorch 1.13, scripts/torch_reference.py (F.cross_entropy / F.nll_loss in float64).
beforeAll(async () => {
  await tf.setBackend('cpu');
});

const x = () => tf.tensor2d(X);
const t = () => tf.tensor1d(T, 'int32');
const tIgn = () => tf.tensor1d(T_IGN, 'int32');

describe('nnCrossEntropyLoss (against PyTorch)', () => {
  it('mean, sum and none reductions on class indices', () => {
    expectClose(nnCrossEntropyLoss()(x(), t()), 0.6753562);
    expectClose(nnCrossEntropyLoss({ reduction: 'sum' })(x(), t()), 2.7014246);
    expectClose(nnCrossEntropyLoss({ reduction: 'none' })(x(), t()), [0.371539, 1.0549569, 0.3350976, 0.9398311]);
    // and by hand: log-sum-exp minus the target logit
    expectClose(nnCrossEntropyLoss({ reduction: 'none' })(x(), t()), X.map((row, i) => ceRow(row, T[i])));
  });

  it('class weights: mean divides by the sum of the weights of the targets', () => {
    expectClose(nnCrossEntropyLoss({ weight: W })(x(), t()), 0.5001033);
    expectClose(nnCrossEntropyLoss({ weight: tf.tensor1d(W), reduction: 'none' })(x(), t()), [1.1146171, 0.2109914, 0.3350976, 0.9398311]);
  });

  it('ignoreIndex drops a sample from the sum and from the denominator', () => {
    expectClose(nnCrossEntropyLoss()(x(), tIgn()), 0.6154892);
    expectClose(nnCrossEntropyLoss({ reduction: 'none' })(x(), tIgn()), [0.371539, 0.0, 0.3350976, 1.1398311]);
    expectClose(nnCrossEntropyLoss({ weight: W })(x(), tIgn()), 0.3994478);
    expectClose(nnCrossEntropyLoss({ ignoreIndex: 0 })(x(), t()), (0.371539 + 0.3350976 + 0.9398311) / 3);
  });

  it('label smoothing, alone and with weights and ignoreIndex', () => {
    expectClose(nnCrossEntropyLoss({ labelSmoothing: 0.1 })(x(), t()), 0.7545228);
    expectClose(nnCrossEntropyLoss({ labelSmoothing: 0.1, reduction: 'none' })(x(), t()), [0.4882057, 1.0882903, 0.4850976, 0.9564977]);
    const all = { weight: W, labelSmoothing: 0.2 };
    expectClose(nnCrossEntropyLoss(all)(x(), tIgn()), 0.5458307);
    expectClose(nnCrossEntropyLoss({ ...all, reduction: 'sum' })(x(), tIgn()), 2.292489);
    expectClose(nnCrossEntropyLoss({ ...all, reduction: 'none' })(x(), tIgn()), [1.1757246, 0.0, 0.6085721, 0.5081923]);
  });

  it('probability (one-hot / soft) targets of shape (B, C)', () => {
    expectClose(nnCrossEntropyLoss()(x(), tf.tensor2d(P)), 1.1366062);
    expectClose(nnCrossEntropyLoss({ reduction: 'none' })(x(), tf.tensor2d(P)), [0.971539, 1.0549569, 1.4600976, 1.0598311]);
    expectClose(nnCrossEntropyLoss({ weight: W, labelSmoothing: 0.1 })(x(), tf.tensor2d(P)), 1.3152389);
    // a one-hot target gives the same loss as its class index
    const oneHot = tf.oneHot(t(), 3).toFloat();
    expectClose(nnCrossEntropyLoss()(x(), oneHot), 0.6753562);
  });

  it('K-dimensional input (B, C, d) with targets (B, d)', () => {
    const xk = tf.tensor3d(XK);
    const tk = tf.tensor2d(TK, [2, 2], 'int32');
    expectClose(nnCrossEntropyLoss()(xk, tk), 2.0573812);
    const none = nnCrossEntropyLoss({ reduction: 'none' })(xk, tk);
    expect(none.shape).toEqual([2, 2]);
    expectClose(none, [2.0421588, 2.2489853, 3.2595789, 0.6788019]);
    expectClose(nnCrossEntropyLoss({ weight: W })(xk, tk), 2.0220489);
  });

  it('reduction is a settable property, validated', () => {
    const loss = nnCrossEntropyLoss();
    expect(loss.reduction).toBe('mean');
    loss.reduction = 'sum';
    expectClose(loss(x(), t()), 2.7014246);
    expect(() => {
      loss.reduction = 'avg' as never;
    }).toThrow(/'reduction' must be one of 'mean', 'sum', 'none', got "avg"/);
    expect(loss.reduction).toBe('sum');
    expect(() => nnCrossEntropyLoss({ reduction: 'batchmean' as never })).toThrow(LuzError);
  });

  it('has gradients (usable for training)', () => {
    const v = tf.variable(tf.tensor2d(X));
    const { grads } = tf.variableGrads(() => nnCrossEntropyLoss()(v, t()) as tf.Scalar, [v]);
    // d/dx mean CE = (softmax - onehot) / B
    const sm = tf.softmax(tf.tensor2d(X)).sub(tf.oneHot(t(), 3).toFloat()).div(4);
    expectClose(grads[v.name], Array.from(sm.dataSync()));
    v.dispose();
  });

  it('rejects bad inputs with clear errors', () => {
    const loss = nnCrossEntropyLoss();
    expect(() => loss(x(), tf.tensor1d(T))).toThrow(/int32 class indices of shape \[4\].*got a float32 tensor of shape \[4\].*toInt\(\)/);
    expect(() => loss(x(), tf.tensor2d([[0], [1], [2], [1]], [4, 1], 'int32'))).toThrow(/shape \[4\]/);
    expect(() => loss(x(), tf.tensor1d([0, 1, 3, 1], 'int32'))).toThrow(/must lie in \[0, 2\].*got 3/);
    expect(() => loss(x(), tf.tensor1d([0, 1, -1, 1], 'int32'))).toThrow(/got -1/);
    expect(() => loss(tf.tensor1d([1, 2]), tf.scalar(0, 'int32'))).toThrow(/'pred' must have shape \[batch, classes, \.\.\.\]/);
    expect(() => loss(x().toInt(), t())).toThrow(/'pred' must be a float32 tensor/);
    expect(() => loss(x(), [0, 1] as never)).toThrow(/'target' must be a tf.Tensor, got an array/);
    expect(() => loss(x(), { ys: [t(), t()], weight: 1 } as never)).toThrow(/nnMixupLoss/);
    expect(() => nnCrossEntropyLoss({ weight: [1, 2] })(x(), t())).toThrow(/'weight' has 2 entries but the prediction has 3 classes/);
    expect(() => nnCrossEntropyLoss({ labelSmoothing: 2 })).toThrow(/'labelSmoothing' must be a number in \[0, 1\], got 2/);
    expect(() => nnCrossEntropyLoss({ ignoreIndex: 0.5 })).toThrow(/'ignoreIndex' must be an integer/);
    expect(() => nnCrossEntropyLoss({ smoothing: 0.1 } as never)).toThrow(/unknown option 'smoothing'/);
    expect(() => nnCrossEntropyLoss({ weight: 'x' as never })).toThrow(/'weight' must be an array of numbers/);
  });

  it('frees its intermediate tensors', () => {
    const [a, b] = [x(), t()];
    const before = tf.memory().numTensors;
    const l = nnCrossEntropyLoss({ weight: W, labelSmoothing: 0.1 })(a, b);
    expect(tf.memory().numTensors).toBe(before + 1);
    l.dispose();
  });
});

describe('nnNllLoss (against PyTorch)', () => {
  const logp = () => tf.logSoftmax(tf.tensor2d(X));
  it('equals cross-entropy on log-softmax', () => {
    expectClose(nnNllLoss()(logp(), t()), 0.6753562);
  });
  it('weights and ignoreIndex, all reductions', () => {
    expectClose(nnNllLoss({ weight: W })(logp(), tIgn()), 0.3994478);
    expectClose(nnNllLoss({ weight: W, reduction: 'sum' })(logp(), tIgn()), 1.6776809);
    expectClose(nnNllLoss({ weight: W, reduction: 'none' })(logp(), tIgn()), [1.1146171, 0.0, 0.3350976, 0.2279662]);
  });
  it('takes its input as is (no softmax): mean of -x[i, y_i]', () => {
    expectClose(nnNllLoss()(x(), t()), -1.0);
  });
  it('does not accept probability targets', () => {
    expect(() => nnNllLoss()(logp(), tf.tensor2d(P))).toThrow(/int32 class indices of shape \[4\], got a float32 tensor of shape \[4, 3\]/);
    expect(() => nnNllLoss({ labelSmoothing: 0.1 } as never)).toThrow(/unknown option 'labelSmoothing'/);
  });
});
