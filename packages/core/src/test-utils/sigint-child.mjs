// Child process for interrupt.test.ts: trains "forever" until Ctrl-C (SIGINT), then reports.
import * as tf from '@tensorflow/tfjs';
import { accelerator, fit, luzCallback, setup } from '../../dist/index.js';

const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 1 })] }), {
  loss: (p, t) => tf.losses.meanSquaredError(t, p),
  optimizer: () => tf.train.sgd(0.01),
});
const slow = luzCallback({
  name: 'slow',
  async onTrainBatchEnd() { await new Promise((r) => setTimeout(r, 5)); },
  onEpochEnd(ctx) { console.log(`EPOCH ${ctx.epoch} DONE`); },
});
const fitted = await fit(module, [tf.randomNormal([200, 4]), tf.randomNormal([200, 1])], {
  epochs: 10000, verbose: true, accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 10 }, callbacks: [slow()],
});
console.log(`RETURNED ${fitted.records.metrics.train.length} EPOCHS`);
