// The live page: trains a small MLP on two spirals in the browser with luzts (wasm backend, mixup,
// accuracy), writing each epoch's metrics into the page. Bundled by scripts/build.mjs with esbuild.
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { accelerator, fit, luzCallback, luzMetricSet, LuzRng, setup, type LuzContext } from '@luzts/core';
import { nnCrossEntropyLoss } from '@luzts/losses';
import { luzMetricAccuracy } from '@luzts/metrics';
import { luzCallbackMixup } from '@luzts/mixup';
import { registerWasmTrainingKernels } from '@luzts/wasm-kernels';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const setStatus = (status: 'loading' | 'training' | 'done' | 'error', text: string) => {
  document.body.dataset.status = status;
  $('status').textContent = text;
};

/** Two interleaved spirals in [-1, 1]², `n` points per class; labels 0 and 1 (int32). */
function twoSpirals(n: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor1D; points: number[][]; labels: number[] } {
  const rng = new LuzRng(seed); // seeded, so the data are the same on every visit
  const rand = () => rng.uniform();
  const points: number[][] = [];
  const labels: number[] = [];
  for (let cls = 0; cls < 2; cls++) {
    for (let i = 0; i < n; i++) {
      const t = (i / n) * 3 * Math.PI + 0.3;
      const r = t / (3 * Math.PI + 0.3);
      const angle = t + cls * Math.PI;
      points.push([r * Math.cos(angle) + (rand() - 0.5) * 0.06, r * Math.sin(angle) + (rand() - 0.5) * 0.06]);
      labels.push(cls);
    }
  }
  return { x: tf.tensor2d(points), y: tf.tensor1d(labels, 'int32'), points, labels };
}

const fmt = (v: unknown) => (typeof v === 'number' ? v.toFixed(4) : '');

/** Draws the predicted class over a grid of the plane, then the training points. */
function draw(model: { forward(x: tf.Tensor, o: { training: boolean }): tf.Tensor }, points: number[][], labels: number[]): void {
  const canvas = $<HTMLCanvasElement>('plot');
  const size = canvas.width;
  const grid: number[][] = [];
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) grid.push([(i / (size - 1)) * 2 - 1, 1 - (j / (size - 1)) * 2]);
  const probs = tf.tidy(() => tf.softmax(model.forward(tf.tensor2d(grid), { training: false }) as tf.Tensor2D).slice([0, 1], [-1, 1]).dataSync());
  const ctx2d = canvas.getContext('2d')!;
  const image = ctx2d.createImageData(size, size);
  probs.forEach((p, k) => {
    image.data.set([255 - 90 * p, 200 - 40 * Math.abs(p - 0.5), 165 + 90 * p, 255], k * 4);
  });
  ctx2d.putImageData(image, 0, 0);
  points.forEach(([px, py], k) => {
    ctx2d.fillStyle = labels[k] ? '#1d3f9a' : '#a11d1d';
    ctx2d.fillRect(Math.round(((px + 1) / 2) * (size - 1)), Math.round(((1 - py) / 2) * (size - 1)), 1, 1);
  });
}

/** A custom callback: one table row per epoch, and the decision regions redrawn. */
const luzCallbackPage = luzCallback<{ points: number[][]; labels: number[] }>({
  name: 'page_callback',
  initialize({ points, labels }) {
    this.points = points;
    this.labels = labels;
  },
  onFitBegin(ctx: LuzContext) {
    $('backend').textContent = `(backend: ${ctx.accelerator?.backend ?? "?"})`;
  },
  onEpochBegin(ctx: LuzContext) {
    setStatus('training', `training: epoch ${ctx.epoch} of ${ctx.maxEpochs}…`);
  },
  onEpochEnd(ctx: LuzContext) {
    const train = ctx.getMetrics('train', ctx.epoch) ?? {};
    const valid = ctx.getMetrics('valid', ctx.epoch) ?? {};
    const row = document.createElement('tr');
    row.dataset.epoch = String(ctx.epoch);
    for (const [key, value] of [['epoch', ctx.epoch], ['train-loss', train.loss], ['train-acc', train.acc], ['valid-loss', valid.loss], ['valid-acc', valid.acc]] as const) {
      const cell = document.createElement('td');
      cell.dataset.metric = key;
      cell.textContent = key === 'epoch' ? String(value) : fmt(value);
      row.append(cell);
    }
    $('epochs').querySelector('tbody')!.append(row);
    draw(ctx.model, this.points, this.labels);
  },
});

async function main(): Promise<void> {
  const epochs = Math.max(1, Math.min(500, Number(new URLSearchParams(location.search).get('epochs') ?? 30) || 30));
  // The wasm backend loads its .wasm files from next to this bundle.
  setWasmPaths(new URL('./', import.meta.url).href);
  registerWasmTrainingKernels();
  const train = twoSpirals(200, 1);
  const valid = twoSpirals(60, 2);
  const module = setup(
    () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [2], units: 48, activation: 'relu' }),
          tf.layers.dense({ units: 48, activation: 'relu' }),
          tf.layers.dense({ units: 2 }),
        ],
      }),
    {
      loss: nnCrossEntropyLoss({ reduction: 'none' }),
      optimizer: () => tf.train.adam(0.01),
      metrics: luzMetricSet({ metrics: [luzMetricAccuracy()] }),
    },
  );
  setStatus('training', 'starting…');
  const fitted = await fit(module, [train.x, train.y], {
    epochs,
    validData: [valid.x, valid.y],
    accelerator: accelerator({ backend: 'wasm' }),
    verbose: false,
    seed: 1,
    dataloaderOptions: { batchSize: 32 },
    callbacks: [luzCallbackMixup({ alpha: 0.2, autoLoss: true }), luzCallbackPage({ points: train.points, labels: train.labels })],
  });
  const last = fitted.records.metrics.valid.at(-1) as Record<string, number> | undefined;
  setStatus('done', `done: ${fitted.records.metrics.train.length} epochs, validation accuracy ${last ? (last.acc * 100).toFixed(1) : '?'}%`);
  document.title = 'luzts live demo: done';
  tf.dispose([train.x, train.y, valid.x, valid.y]);
}

main().catch((error: unknown) => {
  console.error(error);
  setStatus('error', `error: ${error instanceof Error ? error.message : String(error)}`);
  document.title = 'luzts live demo: error';
});
