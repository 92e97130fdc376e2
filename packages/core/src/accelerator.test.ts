import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { accelerator, fit, luzCallback } from './index.js';
import { getData, linearModule } from './test-utils/helpers.js';

describe('accelerator', () => {
  it("'auto' picks wasm here (no tfjs-node) and registers the fast training kernels", async () => {
    const acc = accelerator();
    expect(await acc.prepare()).toBe('wasm');
    expect(acc.backend).toBe('wasm');
    // The composed Conv2DBackpropFilter only exists once @luzts/wasm-kernels is registered.
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('fit on the default backend trains and ctx.device names it', async () => {
    const devices: string[] = [];
    const spy = luzCallback({ name: 'spy', onFitBegin(ctx) { devices.push(ctx.device); } });
    const fitted = await fit(linearModule(10, 1, 0.05), getData(64), { verbose: false, epochs: 5, dataloaderOptions: { batchSize: 16 }, callbacks: [spy()] });
    expect(devices).toEqual(['wasm']);
    const losses = fitted.records.metrics.train.map((m) => m.loss as number);
    expect(losses[4]).toBeLessThan(losses[0]);
  });

  it("an explicit backend is used; an unknown one is an error naming it; 'tensorflow' is a clear error without tfjs-node", async () => {
    expect(await accelerator({ backend: 'cpu' }).prepare()).toBe('cpu');
    expect(() => accelerator({ backend: 'gpu' as never })).toThrow(/'backend' must be one of .*got "gpu"/);
    await expect(accelerator({ backend: 'tensorflow' }).prepare()).rejects.toThrow(/'tensorflow' backend is not available.*@tensorflow\/tfjs-node/);
  });
});
