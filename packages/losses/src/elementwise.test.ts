import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nnBceWithLogitsLoss, nnL1Loss, nnMseLoss } from './index.js';
import { XB, XR, YB, YR, expectClose } from './test-helpers.js';

// Expected values: PyTorch 1.13, scripts/torch_reference.py
// (F.binary_cross_entropy_with_logits, F.mse_loss, F.l1_loss in float64).
beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('nnBceWithLogitsLoss (against PyTorch)', () => {
  it('mean and none', () => {
    expectClose(nnBceWithLogitsLoss()(tf.tensor2d(XB), tf.tensor2d(YB)), 1.1164314);
    expectClose(nnBceWithLogitsLoss({ reduction: 'none' })(tf.tensor2d(XB), tf.tensor2d(YB)), [0.474077, 0.2014133, 2.126928, 0.6443967, 1.103186, 2.1485874]);
  });
  it('posWeight per class', () => {
    expectClose(nnBceWithLogitsLoss({ posWeight: [2, 0.5] })(tf.tensor2d(XB), tf.tensor2d(YB)), 1.3243942);
    expectClose(nnBceWithLogitsLoss({ posWeight: tf.tensor1d([2, 0.5]), reduction: 'sum' })(tf.tensor2d(XB), tf.tensor2d(YB)), 7.9463649);
    // a scalar posWeight of 1 changes nothing
    expectClose(nnBceWithLogitsLoss({ posWeight: 1 })(tf.tensor2d(XB), tf.tensor2d(YB)), 1.1164314);
  });
  it('is stable for large logits', () => {
    const l = nnBceWithLogitsLoss({ reduction: 'none' })(tf.tensor1d([100, -100]), tf.tensor1d([0, 1]));
    expectClose(l, [100, 100], 1e-3);
  });
  it('casts integer 0/1 targets and rejects shape mismatches', () => {
    expectClose(nnBceWithLogitsLoss()(tf.tensor1d([0.5, -1]), tf.tensor1d([1, 0], 'int32')), (Math.log1p(Math.exp(-0.5)) + Math.log1p(Math.exp(-1))) / 2);
    expect(() => nnBceWithLogitsLoss()(tf.zeros([4, 1]), tf.zeros([4]))).toThrow(/same shape, got pred \[4, 1\] and target \[4\]\. Reshape/);
    expect(() => nnBceWithLogitsLoss({ posWeight: [1, 2, 3] })(tf.tensor2d(XB), tf.tensor2d(YB))).toThrow(/'posWeight' has 3 entries but the target's last dimension is 2/);
  });
});

describe('nnMseLoss and nnL1Loss (against PyTorch)', () => {
  it('mse mean and sum', () => {
    expectClose(nnMseLoss()(tf.tensor2d(XR), tf.tensor2d(YR)), 0.9833333);
    expectClose(nnMseLoss({ reduction: 'sum' })(tf.tensor2d(XR), tf.tensor2d(YR)), 5.9);
  });
  it('l1 mean and none', () => {
    expectClose(nnL1Loss()(tf.tensor2d(XR), tf.tensor2d(YR)), 0.8666667);
    const none = nnL1Loss({ reduction: 'none' })(tf.tensor2d(XR), tf.tensor2d(YR));
    expect(none.shape).toEqual([3, 2]);
    expectClose(none, [0.5, 1.5, 1.5, 0.9, 0.3, 0.5]);
  });
  it('validates options and inputs', () => {
    expect(() => nnMseLoss({ reduction: 'avg' as never })).toThrow(/nnMseLoss\(\): 'reduction' must be one of/);
    expect(() => nnL1Loss({ weight: [1] } as never)).toThrow(/unknown option 'weight'/);
    expect(() => nnMseLoss()(tf.zeros([3]), tf.zeros([3, 3]))).toThrow(/same shape/);
    expect(() => nnMseLoss()('a' as never, tf.zeros([3]))).toThrow(/'pred' must be a tf.Tensor, got "a"/);
  });
});
