/** Shared helpers for core's tests (not exported from the package). */
import * as tf from '@tensorflow/tfjs';
import { luzCallback } from '../callback.js';
import { setup } from '../module.js';
import { accelerator } from '../accelerator.js';

/** CPU backend: exact and quick for the tiny models of the tests. */
export const cpu = () => accelerator({ backend: 'cpu' });

/** luz's `get_ds`: x ~ N(0,1) of shape (n, xSize), y ~ N(0,1) of shape (n, ySize). */
export function getData(n = 100, xSize = 10, ySize = 1, seed = 1): [tf.Tensor, tf.Tensor] {
  return [tf.randomNormal([n, xSize], 0, 1, 'float32', seed), tf.randomNormal([n, ySize], 0, 1, 'float32', seed + 1)];
}

/** luz's `get_model`: a linear model. */
export function linearModule(inputSize = 10, outputSize = 1, lr = 0.01) {
  return setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [inputSize], units: outputSize })] }), {
    loss: (p, t) => tf.losses.meanSquaredError(t, p),
    optimizer: () => tf.train.adam(lr),
  });
}

/** A callback that records every event it sees (the core's centrepiece test). */
export function recorder(events: string[], extra: string[] = []) {
  const names = [
    'onFitBegin', 'onEpochBegin', 'onTrainBegin', 'onTrainBatchBegin', 'onTrainBatchAfterPred', 'onTrainBatchAfterLoss',
    'onTrainBatchBeforeBackward', 'onTrainBatchBeforeStep', 'onTrainBatchAfterStep', 'onTrainBatchEnd', 'onTrainEnd',
    'onValidBegin', 'onValidBatchBegin', 'onValidBatchAfterPred', 'onValidBatchAfterLoss', 'onValidBatchEnd', 'onValidEnd',
    'onEpochEnd', 'onFitEnd', 'onPredictBegin', 'onPredictBatchBegin', 'onPredictBatchEnd', 'onPredictEnd',
    'onEarlyStopping', 'onInterrupt', ...extra,
  ];
  const def: Record<string, unknown> = { name: 'recorder_callback' };
  for (const n of names) def[n] = () => void events.push(n);
  return luzCallback(def as { name: string })();
}
