// Child process for index.test.ts: trains a tiny model for 6 epochs with auto-resume and a seed,
// printing "start" when training begins, "from <epoch>" (the first epoch it will run) and "epoch <n>" after each
// epoch's checkpoint is written; at the end writes the final weights and metrics as JSON.
// The test kills it with SIGKILL at random moments and restarts it until it completes.
// Run: node --conditions=@luzts/source --import <core>/src/test-utils/ts-loader.mjs train-child.mjs <state> <out.json> <cpu|wasm>
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { accelerator, fit, luzCallback, setup } from '@luzts/core';
import { luzCallbackAutoResume } from '@luzts/auto-resume';

const [statePath, outPath, backend] = process.argv.slice(2);
const module = setup(
  () => tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 8, activation: 'tanh', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  }),
  { loss: (p, t) => tf.losses.meanSquaredError(t, p), optimizer: () => tf.train.adam(0.02) },
);
const x = Array.from({ length: 250 }, (_, i) => [0, 1, 2, 3].map((j) => Math.sin(i * 1.7 + j * 0.9)));
const y = x.map((r, i) => [Math.tanh(r[0] - r[1]) + 0.5 * r[2] * r[3] + 0.1 * Math.cos(i)]);
const start = luzCallback({ name: 'start', onFitBegin() { process.stdout.write('start\n'); } });
// Runs after auto-resume's onFitBegin (both weight Infinity, this one listed later): reports where training resumes.
const report = luzCallback({ name: 'report', weight: Infinity, onFitBegin(ctx) { process.stdout.write(`from ${ctx.startEpoch}\n`); } });
// Also after auto-resume (listed later, same weight): the epoch's checkpoint is written by then.
const epochs = luzCallback({ name: 'epochs', weight: Infinity, onEpochEnd(ctx) { process.stdout.write(`epoch ${ctx.epoch}\n`); } });
const fitted = await fit(module, [tf.tensor2d(x), tf.tensor2d(y)], {
  epochs: 6,
  seed: 42,
  validData: 0.2,
  verbose: false,
  accelerator: accelerator({ backend }),
  dataloaderOptions: { batchSize: 10 },
  callbacks: [start(), luzCallbackAutoResume({ path: statePath }), report(), epochs()],
});
writeFileSync(outPath, JSON.stringify({ weights: fitted.model.getWeights().map((w) => Array.from(w.dataSync())), metrics: fitted.records.metrics }));
