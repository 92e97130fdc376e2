// Child process for node.test.ts: writes a large checkpoint (4 MB of weights) to the same path in
// a loop, each time with every weight equal to the iteration number, and prints the number after
// each completed write. The test kills it with SIGKILL at random moments.
// Run: node --conditions=@luzts/source --import ./ts-loader.mjs checkpoint-writer-child.mjs <path>
import * as tf from '@tensorflow/tfjs';
import { accelerator, fit, luzCallback, setup } from '@luzts/core';
import { luzCheckpoint } from '@luzts/core/node';

const path = process.argv[2];
const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [1000], units: 1000 })] }), {
  loss: (p, t) => tf.losses.meanSquaredError(t, p),
  optimizer: () => tf.train.adam(0.01),
});
const writer = luzCallback({
  name: 'writer',
  initialize() { this.i = 0; },
  stateDict() { return { i: this.i }; },
  loadStateDict(s) { this.i = s.i; },
  async onEpochEnd(ctx) {
    for (;;) {
      this.i += 1;
      const filled = ctx.model.getWeights().map((w) => tf.fill(w.shape, this.i));
      ctx.model.setWeights(filled);
      tf.dispose(filled);
      await luzCheckpoint(ctx, path);
      process.stdout.write(`${this.i}\n`);
    }
  },
});
await fit(module, [tf.zeros([4, 1000]), tf.zeros([4, 1000])], { epochs: 1, verbose: false, accelerator: accelerator({ backend: 'cpu' }), dataloaderOptions: { batchSize: 4 }, callbacks: [writer()] });
