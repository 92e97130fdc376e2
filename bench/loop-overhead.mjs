// bench/loop-overhead: luzts fit() versus a hand-written tfjs loop and tfjs model.fit, doing the
// same work (same model, MNIST data, batch 128, Adam, shuffling, loss averaging, backend),
// measured side by side and interleaved in one run, for the MLP 784-256-10, the small CNN
// (conv16-pool-conv32-pool-dense), the MNIST example's MLP (784-512-10, dropout 0.4), and a model
// with almost no kernel work, which shows each loop's own cost per step. Prints the ratios; writes
// bench/results/loop-overhead.json. MODELS=mlp,cnn,mnist,loop (default all four).
import { mkdirSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { accelerator, fit, setup, LuzRng } from '@luzts/core';
import { loadMnist } from './mnist-data.mjs';
import { benchCnn, benchMlp, benchMnistMlp } from './models.mjs';

/**
 * Rounds per model (ROUNDS overrides). All three loops run the same kernels; they differ only by
 * their own cost per step (the `loop` row: ~30 µs for fit(), ~90 µs for model.fit), which is ~2%
 * of the MLP's 5 ms step but ~0.5% of the MNIST MLP's 10 ms and the CNN's 27 ms steps, while a
 * single round on this shared machine scatters by ±2%: their medians need 21-31 rounds.
 */
const ROUNDS = process.env.ROUNDS == null ? null : Number(process.env.ROUNDS);
let BATCH = 128;
const backend = process.env.BACKEND ?? 'wasm';
const MODELS = (process.env.MODELS ?? 'mlp,cnn,mnist,loop').split(',');
/** Per model: how to build it, the input of one digit (shape, or the first pixels), epochs per timed run, batch size. */
const SPECS = {
  mlp: { label: 'MLP 784-256-10', build: () => benchMlp(tf), shape: [784], epochs: Number(process.env.EPOCHS ?? 3), rounds: 11 },
  cnn: { label: 'CNN conv16-pool-conv32-pool-dense', build: () => benchCnn(tf), shape: [28, 28, 1], epochs: 1, rounds: 21 },
  mnist: { label: 'MNIST example MLP 784-512-10 (dropout 0.4)', build: () => benchMnistMlp(tf), shape: [784], epochs: 2, rounds: 31 },
  // Almost no kernel work: what remains is each loop's own per-step cost.
  loop: { label: 'the loops alone (dense 4-10 on 4 pixels)', build: () => tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 10 })] }), pixels: 4, epochs: 1, rounds: 7, batch: 16 },
};

await accelerator({ backend }).prepare();
const digits = loadMnist({ n: 8192 });
const y = digits.y;
const yOneHot = tf.oneHot(y, 10);
let x;
let makeModel;
let EPOCHS_PER_RUN;
const loss = (logits, target) => tf.losses.softmaxCrossEntropy(tf.oneHot(target, 10), logits);

async function luztsFit() {
  const module = setup(() => makeModel(), { loss, optimizer: () => tf.train.adam(1e-3) });
  const t0 = performance.now();
  const fitted = await fit(module, [x, y], { epochs: EPOCHS_PER_RUN, verbose: false, seed: 1, accelerator: accelerator({ backend }), dataloaderOptions: { batchSize: BATCH } });
  const ms = performance.now() - t0;
  fitted.model.dispose();
  return ms;
}

/** What a careful user writes by hand: shuffle, gather, gradients, step, running loss mean on device. */
async function handLoop() {
  const t0 = performance.now();
  const model = makeModel();
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
  const model = makeModel();
  // The same loss on logits (tfjs's 'categoricalCrossentropy' expects probabilities).
  model.compile({ optimizer: tf.train.adam(1e-3), loss: (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred) });
  await model.fit(x, yOneHot, { epochs: EPOCHS_PER_RUN, batchSize: BATCH, shuffle: true, verbose: 0 });
  const ms = performance.now() - t0;
  model.optimizer.dispose();
  model.dispose();
  return ms;
}

const runners = { 'luzts fit()': luztsFit, 'hand-written loop': handLoop, 'tfjs model.fit': tfjsModelFit };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
for (const key of MODELS) {
  const spec = SPECS[key];
  if (spec == null) throw new Error(`MODELS: unknown model '${key}' (expected mlp, cnn and/or mnist)`);
  x = spec.pixels ? digits.x.slice([0, 0], [digits.x.shape[0], spec.pixels]) : digits.x.reshape([digits.x.shape[0], ...spec.shape]);
  BATCH = spec.batch ?? 128;
  makeModel = spec.build;
  EPOCHS_PER_RUN = spec.epochs;
  const times = Object.fromEntries(Object.keys(runners).map((k) => [k, []]));
  for (const run of Object.values(runners)) await run(); // warm-up: kernels, allocations
  const rounds = ROUNDS ?? spec.rounds;
  // The order rotates every round, so that no loop always runs first (after the previous
  // round's garbage) or last.
  const entries = Object.entries(runners);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < entries.length; i++) {
      const [name, run] = entries[(i + r) % entries.length];
      times[name].push(await run());
    }
  }
  x.dispose();
  const steps = EPOCHS_PER_RUN * Math.floor(digits.x.shape[0] / BATCH);
  const rows = Object.entries(times).map(([name, ts]) => ({ name, medianMs: median(ts), msPerStep: median(ts) / steps, runsMs: ts.map((t) => +t.toFixed(1)) }));
  const [fitTimes, handTimes, tfjsTimes] = Object.values(times);
  const ratioHand = median(fitTimes.map((t, i) => t / handTimes[i]));
  const ratioTfjs = median(fitTimes.map((t, i) => t / tfjsTimes[i]));
  console.log(`loop overhead — ${spec.label}, batch ${BATCH}, Adam, ${steps} steps per run, ${rounds} interleaved rounds, backend ${tf.getBackend()}`);
  for (const r of rows) console.log(`  ${r.name.padEnd(20)} ${r.medianMs.toFixed(0).padStart(6)} ms   ${r.msPerStep.toFixed(2)} ms/step`);
  const quartiles = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return [s[Math.floor((s.length - 1) / 4)], s[Math.ceil((3 * (s.length - 1)) / 4)]].map((v) => v.toFixed(3)).join('-');
  };
  const targets = key !== 'loop';
  console.log(`  ratio fit()/hand-written loop: ${ratioHand.toFixed(3)}${targets ? ' (target <= 1.03)' : ''}`);
  console.log(`  ratio fit()/tfjs model.fit:    ${ratioTfjs.toFixed(3)} (${targets ? 'target <= 1.0; ' : ''}per-round quartiles ${quartiles(fitTimes.map((t, i) => t / tfjsTimes[i]))})`);
  if (!targets) {
    const [fitStep, handStep, tfjsStep] = rows.map((r) => r.msPerStep * 1000);
    console.log(`  each loop's own cost per step over the hand-written loop: fit() ${(fitStep - handStep).toFixed(0)} µs, model.fit ${(tfjsStep - handStep).toFixed(0)} µs`);
  }
  results[key] = { steps, rounds, rows, ratioHand, ratioTfjs };
}
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/loop-overhead.json', import.meta.url), JSON.stringify({ backend: tf.getBackend(), results, date: new Date().toISOString() }, null, 2));
