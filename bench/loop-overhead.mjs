// bench/loop-overhead: luzts fit() versus a hand-written tfjs loop and tfjs model.fit, doing the
// same work (same MLP 784-256-10, MNIST data, batch 128, Adam, shuffling, loss averaging, backend),
// measured side by side and interleaved in one run. Prints the ratios; writes bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { accelerator, fit, setup, LuzRng } from '@luzts/core';
import { loadMnist } from './mnist-data.mjs';

const EPOCHS_PER_RUN = Number(process.env.EPOCHS ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const BATCH = 128;
const backend = process.env.BACKEND ?? 'wasm';

await accelerator({ backend }).prepare();
const { x, y } = loadMnist({ n: 8192 });
const yOneHot = tf.oneHot(y, 10);

const makeModel = (seed) =>
  tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
const loss = (logits, target) => tf.losses.softmaxCrossEntropy(tf.oneHot(target, 10), logits);

async function luztsFit() {
  const module = setup(() => makeModel(1), { loss, optimizer: () => tf.train.adam(1e-3) });
  const t0 = performance.now();
  const fitted = await fit(module, [x, y], { epochs: EPOCHS_PER_RUN, verbose: false, seed: 1, accelerator: accelerator({ backend }), dataloaderOptions: { batchSize: BATCH } });
  const ms = performance.now() - t0;
  fitted.model.dispose();
  return ms;
}

/** What a careful user writes by hand: shuffle, gather, gradients, step, running loss mean on device. */
async function handLoop() {
  const t0 = performance.now();
  const model = makeModel(1);
  const opt = tf.train.adam(1e-3);
  const rng = new LuzRng(1);
  const vars = model.trainableWeights.map((w) => w.read());
  const n = x.shape[0];
  const nBatches = Math.floor(n / BATCH);
  for (let epoch = 0; epoch < EPOCHS_PER_RUN; epoch++) {
    const perm = rng.permutation(n);
    let sum = tf.scalar(0);
    for (let b = 0; b < nBatches; b++) {
      tf.tidy(() => {
        const idx = tf.tensor1d(perm.subarray(b * BATCH, (b + 1) * BATCH), 'int32');
        const xb = tf.gather(x, idx);
        const yb = tf.gather(y, idx);
        const { value, grads } = tf.variableGrads(() => loss(model.apply(xb, { training: true }), yb), vars);
        opt.applyGradients(grads);
        const next = tf.keep(sum.add(value));
        sum.dispose();
        sum = next;
      });
    }
    sum.div(nBatches).dataSync();
    sum.dispose();
  }
  const ms = performance.now() - t0;
  opt.dispose();
  model.dispose();
  return ms;
}

async function tfjsModelFit() {
  const t0 = performance.now();
  const model = makeModel(1);
  // The same loss on logits (tfjs's 'categoricalCrossentropy' expects probabilities).
  model.compile({ optimizer: tf.train.adam(1e-3), loss: (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred) });
  await model.fit(x, yOneHot, { epochs: EPOCHS_PER_RUN, batchSize: BATCH, shuffle: true, verbose: 0 });
  const ms = performance.now() - t0;
  model.optimizer.dispose();
  model.dispose();
  return ms;
}

const runners = { 'luzts fit()': luztsFit, 'hand-written loop': handLoop, 'tfjs model.fit': tfjsModelFit };
const times = Object.fromEntries(Object.keys(runners).map((k) => [k, []]));
for (const run of Object.values(runners)) await run(); // warm-up: kernels, allocations
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of Object.entries(runners)) times[name].push(await run());
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const steps = EPOCHS_PER_RUN * Math.floor(x.shape[0] / BATCH);
const rows = Object.entries(times).map(([name, ts]) => ({ name, medianMs: median(ts), msPerStep: median(ts) / steps }));
const hand = rows[1].medianMs;
const tfjsFit = rows[2].medianMs;
console.log(`loop overhead — MLP 784-256-10, batch ${BATCH}, Adam, ${steps} steps per run, ${ROUNDS} interleaved rounds, backend ${tf.getBackend()}`);
for (const r of rows) console.log(`  ${r.name.padEnd(20)} ${r.medianMs.toFixed(0).padStart(6)} ms   ${r.msPerStep.toFixed(2)} ms/step`);
const ratioHand = rows[0].medianMs / hand;
const ratioTfjs = rows[0].medianMs / tfjsFit;
console.log(`  ratio fit()/hand-written loop: ${ratioHand.toFixed(3)} (target <= 1.03)`);
console.log(`  ratio fit()/tfjs model.fit:    ${ratioTfjs.toFixed(3)} (target <= 1.0)`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/loop-overhead.json', import.meta.url), JSON.stringify({ backend: tf.getBackend(), steps, rounds: ROUNDS, rows, ratioHand, ratioTfjs, date: new Date().toISOString() }, null, 2));
