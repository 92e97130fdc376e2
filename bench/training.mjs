// bench/training: training speed of three models, side by side, in one run:
//   MLP   784-256-10, batch 128, Adam (random data)            → median ms per step
//   CNN   conv16-pool-conv32-pool-dense on 28x28x1, batch 128  → median ms per step
//   MNIST the MLP of examples/mnist-mlp.mjs (784-512-10, dropout 0.4), batch 128, Adam,
//         one epoch over 8,000 real digits                      → epoch ms and median ms per step
// for each of: luzts fit() on wasm with @luzts/wasm-kernels, luzts fit() on stock wasm, luzts fit()
// on the CPU backend (a few steps only: it is slow), tfjs model.fit and a hand-written tfjs loop
// (both on wasm + kernels), and PyTorch (Debian's python3-torch, 1 thread) as an external reference
// when installed. Every variant runs in its own child process, so its peak RSS
// (process.resourceUsage().maxRSS) is its own; tf.memory().numTensors is read before the variant
// builds its model and after it has disposed everything it owns. Same loss everywhere: softmax
// cross-entropy on logits. Per-step times are the gaps between consecutive batch ends (loading,
// forward, backward and the optimizer step: everything), warm-up steps excluded.
//
// Usage: pnpm --filter @luzts/wasm-kernels build && node bench/training.mjs [--quick]
// Writes bench/results/training.json.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTorchPython } from './torch-python.mjs';
import { benchCnn, benchMlp, benchMnistMlp } from './models.mjs';

const self = fileURLToPath(import.meta.url);
const here = join(self, '..');
const BATCH = 128;
const quick = process.argv.includes('--quick');

// ---------------------------------------------------------------------------------------------
// Child: one (model, variant) pair.
if (process.argv[2] === '--child') {
  const [, , , modelName, variant, settingsJson] = process.argv;
  const settings = JSON.parse(settingsJson);
  const result = await runChild(modelName, variant, settings);
  result.maxRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify(result));
  process.exit(0);
}

async function runChild(modelName, variant, { steps, warmup }) {
  const tf = await import('@tensorflow/tfjs');
  const { accelerator, fit, luzCallback, setup } = await import('@luzts/core');
  const backend = variant === 'cpu' ? 'cpu' : 'wasm';
  const acc = accelerator({ backend, wasmKernels: variant !== 'stockWasm' });
  await acc.prepare();

  const models = {
    mlp: () => benchMlp(tf),
    cnn: () => benchCnn(tf),
    mnist: () => benchMnistMlp(tf), // examples/mnist-mlp.mjs
  };
  const makeModel = models[modelName];
  const loss = (logits, target) => tf.losses.softmaxCrossEntropy(tf.oneHot(target, 10), logits);

  // Data: MNIST (8,000 digits) for the example; random data for the MLP / CNN. `warm` is a short
  // set for the warm-up run (JIT, kernel set-up), `main` the measured one.
  let main;
  let warm;
  if (modelName === 'mnist') {
    const { loadMnist } = await import('./mnist-data.mjs');
    const all = loadMnist();
    const [x, xRest] = tf.split(all.x, [8000, 2000]);
    const [y, yRest] = tf.split(all.y, [8000, 2000]);
    tf.dispose([all.x, all.y, xRest, yRest]);
    const n = steps == null ? 8000 : Math.min(8000, steps * BATCH);
    main = n === 8000 ? { x, y } : { x: x.slice(0, n), y: y.slice(0, n) };
    if (main.x !== x) tf.dispose([x, y]);
    warm = { x: main.x.slice(0, warmup * BATCH), y: main.y.slice(0, warmup * BATCH) };
  } else {
    const shape = modelName === 'cnn' ? [28, 28, 1] : [784];
    const random = (n, seed) => ({
      x: tf.randomUniform([n, ...shape], 0, 1, 'float32', seed),
      y: tf.randomUniform([n], 0, 10, 'int32', seed + 1),
    });
    main = random(steps * BATCH, 3);
    warm = random(warmup * BATCH, 5);
  }
  const tensorsBefore = tf.memory().numTensors;

  /** Runs one epoch of `data` with the variant's training loop; returns batch-end timestamps. */
  const runners = {
    async luzts(data) {
      const ends = [];
      const timer = luzCallback({ name: 'bench_timer', weight: Infinity, onTrainBatchEnd() { ends.push(performance.now()); } });
      const module = setup(makeModel, { loss, optimizer: () => tf.train.adam(1e-3) });
      const fitted = await fit(module, [data.x, data.y], {
        epochs: 1,
        verbose: false,
        seed: 1,
        accelerator: acc,
        callbacks: [timer()],
        dataloaderOptions: { batchSize: BATCH, shuffle: true },
      });
      fitted.model.dispose();
      return ends;
    },
    async tfjsFit(data) {
      const ends = [];
      const model = makeModel();
      model.compile({ optimizer: tf.train.adam(1e-3), loss: (yTrue, yPred) => tf.losses.softmaxCrossEntropy(yTrue, yPred) });
      const yOneHot = tf.oneHot(data.y, 10);
      await model.fit(data.x, yOneHot, { epochs: 1, batchSize: BATCH, shuffle: true, verbose: 0, callbacks: { onBatchEnd: () => ends.push(performance.now()) } });
      yOneHot.dispose();
      model.optimizer.dispose();
      model.dispose();
      return ends;
    },
    async hand(data) {
      const ends = [];
      const model = makeModel();
      const opt = tf.train.adam(1e-3);
      const n = data.x.shape[0];
      const perm = tf.util.createShuffledIndices(n);
      let sum = tf.scalar(0);
      for (let b = 0; b * BATCH < n; b++) {
        tf.tidy(() => {
          const idx = tf.tensor1d(Int32Array.from(perm.subarray(b * BATCH, Math.min(n, (b + 1) * BATCH))), 'int32');
          const xb = tf.gather(data.x, idx);
          const yb = tf.gather(data.y, idx);
          const { value, grads } = tf.variableGrads(() => loss(model.apply(xb, { training: true }), yb));
          opt.applyGradients(grads);
          const next = tf.keep(sum.add(value));
          sum.dispose();
          sum = next;
        });
        // What a careful loop syncs per step (so that timings are real, not queued work).
        sum.dataSync();
        ends.push(performance.now());
      }
      sum.dispose();
      opt.dispose();
      model.dispose();
      return ends;
    },
  };
  const runner = variant === 'tfjsFit' ? runners.tfjsFit : variant === 'hand' ? runners.hand : runners.luzts;
  const result = { model: modelName, variant, backend: tf.getBackend() };
  try {
    if (warmup > 0) await runner(warm);
    const t0 = performance.now();
    const ends = await runner(main);
    const gaps = ends.slice(1).map((t, i) => t - ends[i]);
    gaps.unshift(ends[0] - t0);
    result.steps = ends.length;
    result.epochMs = performance.now() - t0;
    result.msPerStep = median(gaps);
  } catch (e) {
    result.error = String(e?.message ?? e).split('\n')[0];
  }
  result.tensorsBefore = tensorsBefore;
  result.tensorsAfter = tf.memory().numTensors;
  tf.dispose([main.x, main.y, warm.x, warm.y]);
  return result;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------------------------------------
// Parent: every (model, variant) in its own process, one after the other.
const MNIST_STEPS = Math.ceil(8000 / BATCH); // 63
const plan = {
  // steps: measured steps (null: the whole 8,000-digit epoch); warmup: steps of a warm-up run.
  mlp: {
    luzts: { steps: quick ? 15 : 40, warmup: 5 },
    stockWasm: { steps: quick ? 8 : 15, warmup: 3 },
    cpu: { steps: quick ? 3 : 6, warmup: 1 },
    tfjsFit: { steps: quick ? 15 : 40, warmup: 5 },
    hand: { steps: quick ? 15 : 40, warmup: 5 },
  },
  cnn: {
    luzts: { steps: quick ? 8 : 20, warmup: 3 },
    stockWasm: { steps: 2, warmup: 0 },
    cpu: { steps: 2, warmup: 0 }, // ~20 s per step
    tfjsFit: { steps: quick ? 8 : 20, warmup: 3 },
    hand: { steps: quick ? 8 : 20, warmup: 3 },
  },
  mnist: {
    luzts: { steps: null, warmup: 8 },
    stockWasm: { steps: null, warmup: 3 },
    cpu: { steps: quick ? 3 : 6, warmup: 1 }, // a few steps; the epoch time is extrapolated
    tfjsFit: { steps: null, warmup: 8 },
    hand: { steps: null, warmup: 8 },
  },
};
const VARIANTS = ['luzts', 'stockWasm', 'cpu', 'tfjsFit', 'hand'];
const LABELS = {
  luzts: 'luzts fit wasm+kernels',
  stockWasm: 'luzts fit stock wasm',
  cpu: 'luzts fit cpu',
  tfjsFit: 'tfjs model.fit',
  hand: 'hand-written loop',
  torch: 'pytorch (1 thread)',
};

const results = { batch: BATCH, node: process.version, date: new Date().toISOString(), runs: {} };
for (const [modelName, variants] of Object.entries(plan)) {
  results.runs[modelName] = {};
  for (const variant of VARIANTS) {
    const settings = variants[variant];
    const r = spawnSync(process.execPath, [self, '--child', modelName, variant, JSON.stringify(settings)], {
      encoding: 'utf8',
      cwd: here,
      timeout: 240_000,
      maxBuffer: 16 << 20,
    });
    const line = (r.stdout ?? '').trim().split('\n').pop();
    let res;
    try {
      res = JSON.parse(line);
    } catch {
      res = { model: modelName, variant, error: `child failed (status ${r.status}${r.signal ? `, ${r.signal}` : ''}): ${(r.stderr ?? '').trim().split('\n').pop()}` };
    }
    if (modelName === 'mnist' && settings.steps != null && res.msPerStep != null) {
      res.epochMsExtrapolated = res.msPerStep * MNIST_STEPS;
    }
    results.runs[modelName][variant] = res;
    process.stderr.write(`  ${modelName} ${variant}: ${res.error ?? `${res.msPerStep.toFixed(2)} ms/step`}\n`);
  }
}

// PyTorch reference (never a dependency): same models, same data for MNIST.
const py = findTorchPython();
if (py) {
  const tf = await import('@tensorflow/tfjs');
  const { loadMnist } = await import('./mnist-data.mjs');
  await tf.setBackend('cpu');
  tf.backend().firstUse = false; // no tfjs-node banner: the parent only reads the digits
  const dir = mkdtempSync(join(tmpdir(), 'luzts-bench-'));
  try {
    const { x, y } = loadMnist();
    writeFileSync(join(dir, 'x.f32'), Buffer.from(x.dataSync().slice(0, 8000 * 784).buffer));
    writeFileSync(join(dir, 'y.i32'), Buffer.from(Int32Array.from(y.dataSync().slice(0, 8000)).buffer));
    tf.dispose([x, y]);
    const out = execFileSync(py, [join(here, 'kernels', 'torch_ref.py'), '--training', dir, String(quick ? 15 : 40), '5'], { encoding: 'utf8', timeout: 240_000 });
    const t = JSON.parse(out.trim().split('\n').pop());
    results.torch = t;
    results.runs.mlp.torch = { msPerStep: t.mlpMs, maxRssMB: t.maxRssMB };
    results.runs.cnn.torch = { msPerStep: t.cnnMs, maxRssMB: t.maxRssMB };
    results.runs.mnist.torch = { msPerStep: t.mnistMsPerStep, epochMs: t.mnistEpochMs, maxRssMB: t.maxRssMB };
  } catch (e) {
    results.torch = { error: String(e?.message ?? e).split('\n')[0] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  results.torch = null;
}

// ---------------------------------------------------------------------------------------------
// Report.
const columns = [...VARIANTS, ...(results.runs.mlp.torch ? ['torch'] : [])];
const fmt = (v, d = 1) => (typeof v === 'number' ? v.toFixed(d) : '-');
const cell = (res, pick) => (res == null ? 'n/a' : res.error ? 'cannot train' : pick(res));
const rows = [['', ...columns.map((c) => LABELS[c])]];
const ratioRow = (label, modelName) =>
  [label, ...columns.map((c) => {
    const base = results.runs[modelName].luzts?.msPerStep;
    const v = results.runs[modelName][c]?.msPerStep;
    return base && v ? `${(v / base).toFixed(2)}x` : '-';
  })];
for (const [modelName, title] of [['mlp', 'MLP 784-256-10'], ['cnn', 'CNN c16-p-c32-p-d'], ['mnist', 'MNIST MLP 784-512-10']]) {
  const runs = results.runs[modelName];
  rows.push([`${title} ms/step`, ...columns.map((c) => cell(runs[c], (r) => fmt(r.msPerStep, 2)))]);
  if (modelName === 'mnist') {
    rows.push([`${title} epoch s (8,000)`, ...columns.map((c) => cell(runs[c], (r) => (r.epochMsExtrapolated != null ? `~${fmt(r.epochMsExtrapolated / 1000)} (extrap.)` : fmt(r.epochMs / 1000, 2))))]);
  }
  rows.push([`  vs luzts wasm+kernels`, ...ratioRow('', modelName).slice(1)]);
  rows.push([`  peak RSS MB`, ...columns.map((c) => (runs[c]?.maxRssMB != null ? fmt(runs[c].maxRssMB, 0) : '-'))]);
  rows.push([`  tensors before→after`, ...columns.map((c) => (runs[c]?.tensorsBefore != null ? `${runs[c].tensorsBefore}→${runs[c].tensorsAfter}` : '-'))]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
console.log(`training — batch ${BATCH}, Adam, softmax cross-entropy; each variant in its own process; ${quick ? 'quick' : 'full'} run`);
console.log(rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')).join('\n'));
const note = (m, v) => results.runs[m][v]?.error;
if (note('cnn', 'stockWasm')) console.log(`stock wasm CNN: ${note('cnn', 'stockWasm')}`);
console.log('cpu: few steps only; MNIST cpu epoch extrapolated from its ms/step. pytorch: reference only (1 thread, its own RSS for all three models).');
const luz = (m) => results.runs[m].luzts?.msPerStep;
results.ratios = {
  mlpStockOverKernels: results.runs.mlp.stockWasm?.msPerStep / luz('mlp'),
  cnnCpuOverKernels: results.runs.cnn.cpu?.msPerStep / luz('cnn'),
  cnnKernelsOverTorch: results.runs.cnn.torch ? luz('cnn') / results.runs.cnn.torch.msPerStep : null,
  mlpKernelsOverTorch: results.runs.mlp.torch ? luz('mlp') / results.runs.mlp.torch.msPerStep : null,
  mnistFitOverTfjsFit: luz('mnist') / results.runs.mnist.tfjsFit?.msPerStep,
  mnistFitOverHand: luz('mnist') / results.runs.mnist.hand?.msPerStep,
};
console.log('ratios:', Object.fromEntries(Object.entries(results.ratios).map(([k, v]) => [k, v == null || Number.isNaN(v) ? null : +v.toFixed(3)])));
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'training.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`wrote ${join(here, 'results', 'training.json')}`);
