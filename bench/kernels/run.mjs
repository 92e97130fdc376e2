// Benchmark of @luzts/wasm-kernels: per-step ms of an MLP (784-256-10) and a small CNN
// (conv16-pool-conv32-pool-dense, 28x28x1) training step (batch 128, Adam) on
//   wasm + kernels, stock wasm, the CPU backend and (when available) PyTorch.
//
// Usage: pnpm --filter @luzts/wasm-kernels build && node bench/kernels/run.mjs [--quick]
// Writes bench/results/kernels.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { findTorchPython } from '../torch-python.mjs';
import { adamStepper, benchCnn, benchMlp } from '../models.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const pkgDir = join(root, 'packages', 'wasm-kernels');
// Resolve tfjs exactly as the package does, so both share one engine.
const require = createRequire(join(pkgDir, 'package.json'));
const tf = await import(pathToFileURL(require.resolve('@tensorflow/tfjs')).href);
await import(pathToFileURL(require.resolve('@tensorflow/tfjs-backend-wasm')).href);
const { registerWasmTrainingKernels } = await import(pathToFileURL(join(pkgDir, 'dist', 'index.js')).href);

const quick = process.argv.includes('--quick');
const N = quick ? 10 : 30;
const WARMUP = quick ? 3 : 5;
const BATCH = 128;
const ROUNDS = 5;
/** Rounds of the interleaved CNN / PyTorch comparison. */
const TORCH_ROUNDS = 3;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function time(fn, n, warmup) {
  for (let i = 0; i < warmup; i++) fn();
  const ts = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

function data(shape, classes, seed) {
  const x = tf.randomUniform(shape, 0, 1, 'float32', seed);
  const y = tf.oneHot(tf.randomUniform([shape[0]], 0, classes, 'int32', seed + 1), classes).toFloat();
  return { x, y };
}

function mlp() {
  const model = benchMlp(tf);
  return { model, ...data([BATCH, 784], 10, 3) };
}

function cnn() {
  const model = benchCnn(tf);
  return { model, ...data([BATCH, 28, 28, 1], 10, 4) };
}

const stepper = (m) => adamStepper(tf, m);

async function onBackend(name, fn) {
  await tf.setBackend(name);
  await tf.ready();
  return tf.tidy(() => fn());
}

/** Forward matmuls of the MLP, untransposed, and the 5 matmuls of a step with pre-transposed operands. */
function matmulFloorRunners() {
  const x = tf.randomUniform([BATCH, 784]);
  const w1 = tf.randomUniform([784, 256]);
  const h = tf.randomUniform([BATCH, 256]);
  const w2 = tf.randomUniform([256, 10]);
  const dz = tf.randomUniform([BATCH, 10]);
  const xt = tf.randomUniform([784, BATCH]);
  const ht = tf.randomUniform([256, BATCH]);
  const w2t = tf.randomUniform([10, 256]);
  const dh = tf.randomUniform([BATCH, 256]);
  const run = (pairs) => () => {
    const outs = pairs.map(([a, b]) => tf.matMul(a, b));
    outs.forEach((o) => o.dataSync());
    tf.dispose(outs);
  };
  return {
    forward: run([[x, w1], [h, w2]]),
    five: run([[x, w1], [h, w2], [ht, dz], [dz, w2t], [xt, dh]]),
    dispose: () => tf.dispose([x, w1, h, w2, dz, xt, ht, w2t, dh]),
  };
}

/**
 * The MLP step with the kernels and its matmul floor, measured interleaved: ROUNDS rounds of
 * N/ROUNDS steps, then as many forward-matmul pairs and five-matmul sets, so that a slow spell of
 * the machine hits all three alike. Medians over all samples.
 */
function mlpAndFloorInterleaved() {
  const m = mlp();
  const step = stepper(m);
  const floor = matmulFloorRunners();
  const per = Math.max(5, Math.round((3 * N) / ROUNDS));
  const samples = { step: [], forward: [], five: [] };
  for (let i = 0; i < WARMUP; i++) {
    step();
    floor.forward();
    floor.five();
  }
  const sample = (fn, into) => {
    for (let i = 0; i < per; i++) {
      const t0 = performance.now();
      fn();
      into.push(performance.now() - t0);
    }
  };
  for (let r = 0; r < ROUNDS; r++) {
    sample(step, samples.step);
    sample(floor.forward, samples.forward);
    sample(floor.five, samples.five);
  }
  floor.dispose();
  m.model.dispose();
  tf.dispose([m.x, m.y]);
  return { stepMs: median(samples.step), forwardMs: median(samples.forward), fiveUntransposedMs: median(samples.five), samplesEach: samples.step.length };
}

function measure(build, steps = N, warmup = WARMUP) {
  const m = build();
  const ms = time(stepper(m), steps, warmup);
  m.model.dispose?.();
  tf.dispose([m.x, m.y]);
  return ms;
}

const results = { batch: BATCH, steps: N, warmup: WARMUP, node: process.version, tfjs: tf.version.tfjs };

// --- stock wasm (before registration) ---------------------------------------------------
await tf.setBackend('wasm');
await tf.ready();
results.mlpStockWasmMs = measure(mlp);
let stockCnnError = null;
try {
  measure(cnn, 1, 0);
} catch (e) {
  stockCnnError = String(e.message).split('\n')[0];
}
results.cnnStockWasm = stockCnnError ? `cannot train: ${stockCnnError}` : 'trains (unexpected)';

// --- wasm + kernels ---------------------------------------------------------------------
results.registered = registerWasmTrainingKernels();
{
  const { stepMs, forwardMs, fiveUntransposedMs, samplesEach } = mlpAndFloorInterleaved();
  results.mlpWasmKernelsMs = stepMs;
  results.mlpMatmulFloor = { forwardMs, fiveUntransposedMs, samplesEach, rounds: ROUNDS };
}
// The CNN step, and PyTorch's (reference only, when installed), interleaved: TORCH_ROUNDS rounds of
// N wasm steps in this process, then one torch_ref.py run (N steps of each model), so that a slow
// spell of the shared machine hits both. Step time: median of all wasm steps; ratio: median of
// the per-round ratios.
const py = findTorchPython();
{
  const m = cnn();
  const step = stepper(m);
  const rounds = [];
  const wasmSteps = [];
  for (let i = 0; i < WARMUP; i++) step();
  for (let r = 0; r < (py ? TORCH_ROUNDS : 1); r++) {
    const ts = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      step();
      ts.push(performance.now() - t0);
    }
    wasmSteps.push(...ts);
    if (py) {
      const out = execFileSync(py, [join(here, 'torch_ref.py'), String(N), String(WARMUP)], { encoding: 'utf8' });
      const torch = JSON.parse(out.trim().split('\n').pop());
      rounds.push({ wasmCnnMs: median(ts), torchCnnMs: torch.cnnMs, torchMlpMs: torch.mlpMs, torch: torch.torch, threads: torch.threads });
    }
  }
  m.model.dispose();
  tf.dispose([m.x, m.y]);
  results.cnnWasmKernelsMs = median(wasmSteps);
  results.torch = py
    ? {
        cnnMs: median(rounds.map((r) => r.torchCnnMs)),
        mlpMs: median(rounds.map((r) => r.torchMlpMs)),
        torch: rounds[0].torch,
        threads: rounds[0].threads,
        cnnRatioPaired: median(rounds.map((r) => r.wasmCnnMs / r.torchCnnMs)),
        rounds,
      }
    : null;
}

// Per-kernel profile of one CNN step on wasm + kernels.
{
  const m = cnn();
  const step = stepper(m);
  step();
  const prof = await tf.profile(() => step());
  const byKernel = {};
  for (const k of prof.kernels) byKernel[k.name] = (byKernel[k.name] ?? 0) + k.kernelTimeMs;
  results.cnnKernelProfileMs = Object.fromEntries(
    Object.entries(byKernel)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 10)
      .map(([k, v]) => [k, +v.toFixed(2)]),
  );
  m.model.dispose();
  tf.dispose([m.x, m.y]);
}

// --- CPU backend ------------------------------------------------------------------------
await onBackend('cpu', () => null);
results.mlpCpuMs = measure(mlp, quick ? 2 : 5, 1);
results.cnnCpuMs = measure(cnn, quick ? 1 : 2, 0);


// --- report -----------------------------------------------------------------------------
const r2 = (v) => (typeof v === 'number' ? v.toFixed(2) : String(v));
const floor3 = 3 * results.mlpMatmulFloor.forwardMs;
results.ratios = {
  mlpKernelsOverStock: results.mlpWasmKernelsMs / results.mlpStockWasmMs,
  mlpKernelsOverThreeForwardMatmuls: results.mlpWasmKernelsMs / floor3,
  mlpKernelsOverFiveUntransposedMatmuls: results.mlpWasmKernelsMs / results.mlpMatmulFloor.fiveUntransposedMs,
  mlpCpuOverKernels: results.mlpCpuMs / results.mlpWasmKernelsMs,
  cnnCpuOverKernels: results.cnnCpuMs / results.cnnWasmKernelsMs,
  cnnKernelsOverTorch: results.torch ? results.torch.cnnRatioPaired : null,
  mlpKernelsOverTorch: results.torch ? results.mlpWasmKernelsMs / results.torch.mlpMs : null,
};
results.targets = {
  'MLP kernels <= 1/3.5 stock wasm': results.ratios.mlpKernelsOverStock <= 1 / 3.5,
  'MLP kernels <= 1.4 x (3 x forward matmuls)': results.ratios.mlpKernelsOverThreeForwardMatmuls <= 1.4,
  'CNN wasm >= 100x faster than CPU backend': results.ratios.cnnCpuOverKernels >= 100,
  'CNN wasm <= 1.5x PyTorch': results.torch ? results.ratios.cnnKernelsOverTorch <= 1.5 : 'no torch',
};

const rows = [
  ['step (batch 128, Adam)', 'wasm+kernels', 'stock wasm', 'cpu backend', 'pytorch'],
  ['MLP 784-256-10 ms', r2(results.mlpWasmKernelsMs), r2(results.mlpStockWasmMs), r2(results.mlpCpuMs), results.torch ? r2(results.torch.mlpMs) : 'n/a'],
  ['CNN c16-p-c32-p-d ms', r2(results.cnnWasmKernelsMs), 'cannot train', r2(results.cnnCpuMs), results.torch ? r2(results.torch.cnnMs) : 'n/a'],
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
console.log(rows.map((r) => r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')).join('\n'));
console.log(`\nstock wasm CNN: ${results.cnnStockWasm}`);
console.log(
  `MLP matmul floor: forward (2 matmuls) ${r2(results.mlpMatmulFloor.forwardMs)} ms, 3x forward ${r2(floor3)} ms, ` +
    `5 matmuls of a step untransposed ${r2(results.mlpMatmulFloor.fiveUntransposedMs)} ms`,
);
if (results.torch) {
  const rounds = results.torch.rounds.map((r) => `${r2(r.wasmCnnMs)} / ${r2(r.torchCnnMs)} = ${(r.wasmCnnMs / r.torchCnnMs).toFixed(3)}`);
  console.log(`CNN wasm+kernels / PyTorch, interleaved rounds (ms): ${rounds.join('; ')}`);
}
console.log('ratios:', Object.fromEntries(Object.entries(results.ratios).map(([k, v]) => [k, v == null ? null : +v.toFixed(3)])));
console.log('targets met:', results.targets);
console.log('CNN step kernel profile (ms, wasm+kernels):', results.cnnKernelProfileMs);

const outDir = join(root, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'kernels.json'), JSON.stringify(results, null, 2) + '\n');
console.log(`\nwrote ${join(outDir, 'kernels.json')}`);
