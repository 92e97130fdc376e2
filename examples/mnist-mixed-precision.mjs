// The MNIST MLP with and without luzCallbackMixedPrecision (dynamic loss scaling; compute stays
// float32 on tfjs): the two runs converge alike. Prints both loss curves and the loss scale.
import * as tf from '@tensorflow/tfjs';
import { fit, setup } from '@luzts/core';
import { nnCrossEntropyLoss } from '@luzts/losses';
import { luzMetricAccuracy } from '@luzts/metrics';
import { luzCallbackMixedPrecision } from '@luzts/mixed-precision';
import { loadMnistSplit } from './mnist-data.mjs';

const EPOCHS = Number(process.env.EPOCHS ?? 5);
const { train, valid } = loadMnistSplit();
const module = setup(
  () =>
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }),
        tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    }),
  { loss: nnCrossEntropyLoss(), optimizer: () => tf.train.adam(1e-3), metrics: [luzMetricAccuracy()] },
);

const runs = {};
for (const [name, callbacks] of [['float32', []], ['loss scaling', [luzCallbackMixedPrecision()]]]) {
  const fitted = await fit(module, train, { epochs: EPOCHS, validData: valid, verbose: false, seed: 1, dataloaderOptions: { batchSize: 128 }, callbacks });
  runs[name] = fitted.records;
}
console.log('epoch | train loss (float32) | train loss (loss scaling) | valid acc (float32) | valid acc (loss scaling) | scale');
for (let e = 0; e < EPOCHS; e++) {
  const [a, b] = [runs.float32, runs['loss scaling']];
  const scale = b.amp?.scale?.[e];
  console.log(`${String(e + 1).padStart(5)} | ${a.metrics.train[e].loss.toFixed(4).padStart(20)} | ${b.metrics.train[e].loss.toFixed(4).padStart(25)} | ${a.metrics.valid[e].acc.toFixed(4).padStart(19)} | ${b.metrics.valid[e].acc.toFixed(4).padStart(24)} | ${scale}`);
}
