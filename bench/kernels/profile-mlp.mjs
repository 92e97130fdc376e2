// Per-kernel (with input shapes) profile of one CNN training step on wasm + @luzts/wasm-kernels,
// and the median step time. Usage: pnpm --filter @luzts/wasm-kernels build && node bench/kernels/profile.mjs [steps]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { benchMlp } from '../models.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..', '..', 'packages', 'wasm-kernels');
const require = createRequire(join(pkgDir, 'package.json'));
const tf = await import(pathToFileURL(require.resolve('@tensorflow/tfjs')).href);
await import(pathToFileURL(require.resolve('@tensorflow/tfjs-backend-wasm')).href);
const { registerWasmTrainingKernels } = await import(pathToFileURL(join(pkgDir, 'dist', 'index.js')).href);
registerWasmTrainingKernels();
await tf.setBackend('wasm');
await tf.ready();
const steps = Number(process.argv[2] ?? 20);
const B = 128;
const model = benchMlp(tf);
const x = tf.randomUniform([B, 784], 0, 1, 'float32', 4);
const y = tf.oneHot(tf.randomUniform([B], 0, 10, 'int32', 5), 10).toFloat();
const opt = tf.train.adam(1e-3);
const step = () => {
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })));
    opt.applyGradients(grads);
    return value;
  });
  loss.dataSync();
  loss.dispose();
};
for (let i = 0; i < 5; i++) step();
const ts = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  step();
  ts.push(performance.now() - t0);
}
ts.sort((a, b) => a - b);
console.log(`MLP step median ${ts[ts.length >> 1].toFixed(2)} ms (min ${ts[0].toFixed(2)})`);
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
if (globalThis.__T) { for (const k in globalThis.__T) globalThis.__T[k] = 0; for (let i = 0; i < 10; i++) step(); console.log(Object.fromEntries(Object.entries(globalThis.__T).map(([k, v]) => [k, +(v / 10).toFixed(2)]))); }
