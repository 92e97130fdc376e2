// Per-kernel (with input shapes) profile of one training step (batch 128, Adam) of the benchmark
// CNN (default), MLP, batch-norm CNN (bn) or MobileNet-style block (dw) on wasm + @luzts/wasm-kernels,
// and the median step time.
// Usage: pnpm --filter @luzts/wasm-kernels build && node bench/kernels/profile.mjs [cnn|mlp|bn|dw] [steps]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { adamStepper, benchBnCnn, benchCnn, benchDwCnn, benchMlp } from '../models.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..', '..', 'packages', 'wasm-kernels');
const require = createRequire(join(pkgDir, 'package.json'));
const tf = await import(pathToFileURL(require.resolve('@tensorflow/tfjs')).href);
await import(pathToFileURL(require.resolve('@tensorflow/tfjs-backend-wasm')).href);
const { registerWasmTrainingKernels } = await import(pathToFileURL(join(pkgDir, 'dist', 'index.js')).href);
registerWasmTrainingKernels();
await tf.setBackend('wasm');
await tf.ready();

const which = process.argv[2] ?? 'cnn';
const MODELS = { cnn: { build: benchCnn, shape: [28, 28, 1] }, mlp: { build: benchMlp, shape: [784] }, bn: { build: benchBnCnn, shape: [32, 32, 3] }, dw: { build: benchDwCnn, shape: [32, 32, 3] } };
if (!(which in MODELS)) throw new Error(`profile.mjs: unknown model '${which}' (expected cnn, mlp, bn or dw)`);
const steps = Number(process.argv[3] ?? 20);
const B = 128;
const model = MODELS[which].build(tf);
const x = tf.randomUniform([B, ...MODELS[which].shape], 0, 1, 'float32', 4);
const y = tf.oneHot(tf.randomUniform([B], 0, 10, 'int32', 5), 10).toFloat();
const step = adamStepper(tf, { model, x, y });
for (let i = 0; i < 5; i++) step();
const ts = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  step();
  ts.push(performance.now() - t0);
}
ts.sort((a, b) => a - b);
console.log(`${which.toUpperCase()} step median ${ts[ts.length >> 1].toFixed(2)} ms (min ${ts[0].toFixed(2)})`);
const agg = {};
const reps = 5;
for (let r = 0; r < reps; r++) {
  const prof = await tf.profile(() => step());
  for (const k of prof.kernels) {
    const key = `${k.name} ${k.inputShapes.map((s) => JSON.stringify(s)).join(' ')}`;
    (agg[key] ??= []).push(k.kernelTimeMs);
  }
}
const rows = Object.entries(agg).map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / reps, v.length / reps]);
rows.sort((a, b) => b[1] - a[1]);
for (const [k, ms, n] of rows.slice(0, 30)) console.log(ms.toFixed(2).padStart(7), `x${n}`, k);
console.log('total', rows.reduce((a, r) => a + r[1], 0).toFixed(2));
