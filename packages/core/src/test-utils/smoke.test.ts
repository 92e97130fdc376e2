import * as tf from '@tensorflow/tfjs';
import { test, expect } from 'vitest';
import { fit, predict, evaluate, getMetrics } from '../index.js';
import { cpu, getData, linearModule, recorder } from './helpers.js';
test('smoke', async () => {
  const ev: string[] = [];
  const data = getData(20);
  const fitted = await fit(linearModule(), data, { epochs: 2, accelerator: cpu(), validData: data, dataloaderOptions: { batchSize: 10 }, callbacks: [recorder(ev)], verbose: true });
  console.log(ev.join(' '));
  console.log(String(fitted));
  console.log(getMetrics(fitted));
  const p = await predict(fitted, data[0]) as tf.Tensor;
  console.log(p.shape, tf.memory().numTensors);
  console.log(String(await evaluate(fitted, data)));
});
