// bench/mixup-overhead: training step time of the MLP 784-256-10 (batch 128, Adam, MNIST) with and
// without luzCallbackMixup, interleaved in one run. Target: with / without <= 1.05.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { accelerator, fit, luzCallback, setup } from '@luzts/core';
import { nnCrossEntropyLoss } from '@luzts/losses';
import { luzCallbackMixup } from '@luzts/mixup';
import { loadMnist } from './mnist-data.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const BATCH = 128;
const backend = process.env.BACKEND ?? 'wasm';
await accelerator({ backend }).prepare();
const { x, y } = loadMnist({ n: 8192 });

/** Times only the training batches (begin → end), not set-up or epoch bookkeeping. */
function stepTimer(times) {
  return luzCallback({
    name: 'step_timer',
    weight: -Infinity,
    onTrainBatchBegin() { this.t0 = performance.now(); },
    onTrainBatchEnd() { times.push(performance.now() - this.t0); },
  })();
}

async function run(withMixup) {
  const times = [];
  const module = setup(
    () => tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }), tf.layers.dense({ units: 10 })] }),
    { loss: nnCrossEntropyLoss({ reduction: withMixup ? 'none' : 'mean' }), optimizer: () => tf.train.adam(1e-3) },
  );
  const callbacks = [stepTimer(times), ...(withMixup ? [luzCallbackMixup({ autoLoss: true })] : [])];
  const t0 = performance.now();
  const fitted = await fit(module, [x, y], { epochs: 1, verbose: false, seed: 1, callbacks, accelerator: accelerator({ backend }), dataloaderOptions: { batchSize: BATCH } });
  const total = performance.now() - t0;
  fitted.model.dispose();
  return { step: times.slice(5).sort((a, b) => a - b)[Math.floor((times.length - 5) / 2)], total };
}

const results = { plain: [], mixup: [] };
await run(false);
await run(true);
for (let r = 0; r < ROUNDS; r++) {
  results.plain.push(await run(false));
  results.mixup.push(await run(true));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plainStep = median(results.plain.map((r) => r.step));
const mixupStep = median(results.mixup.map((r) => r.step));
// Each round runs both back to back: the median of the per-round ratios cancels slow drifts.
const pairedRatio = median(results.mixup.map((r, i) => r.step / results.plain[i].step));
const plainEpoch = median(results.plain.map((r) => r.total));
const mixupEpoch = median(results.mixup.map((r) => r.total));
console.log(`mixup overhead — MLP 784-256-10, batch ${BATCH}, Adam, ${Math.floor(8192 / BATCH)} steps per epoch, ${ROUNDS} interleaved rounds, backend ${tf.getBackend()}`);
console.log(`  median step:  without ${plainStep.toFixed(2)} ms   with mixup ${mixupStep.toFixed(2)} ms   ratio ${(mixupStep / plainStep).toFixed(3)}; median of paired per-round ratios ${pairedRatio.toFixed(3)} (target <= 1.05)`);
console.log(`  median epoch: without ${plainEpoch.toFixed(0)} ms   with mixup ${mixupEpoch.toFixed(0)} ms   ratio ${(mixupEpoch / plainEpoch).toFixed(3)}`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/mixup-overhead.json', import.meta.url), JSON.stringify({ backend: tf.getBackend(), plainStep, mixupStep, ratio: mixupStep / plainStep, pairedRatio, plainEpoch, mixupEpoch, date: new Date().toISOString() }, null, 2));
