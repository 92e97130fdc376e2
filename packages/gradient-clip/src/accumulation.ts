/**
 * `luzCallbackGradientAccumulation()`: larger effective batches by accumulating gradients over
 * several batches before each optimizer step.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { luzCallback, type LuzCallback, type LuzContext } from '@luzts/core';
import { checkKeys, checkScalar } from './validate.js';

/** Options of {@link luzCallbackGradientAccumulation}. */
export interface GradientAccumulationOptions {
  /** Number of batches whose gradients are averaged into one optimizer step. Default 2. */
  steps?: number;
}

/** Running sums of one optimizer's gradients (kept tensors, owned by the callback). */
interface Accumulator {
  sums: tf.NamedTensorMap;
  count: number;
}

type StepOpt = LuzContext['stepOpt'];

const accumulationCallback = luzCallback<{ steps: number }>({
  name: 'gradient_accumulation_callback',
  initialize({ steps }) {
    this.steps = steps;
    this.accumulators = new Map<tf.Optimizer, Accumulator>();
    this.inner = undefined as StepOpt | undefined;
  },
  onFitBegin(ctx: LuzContext) {
    // Wrap whatever applies the gradients now (the default step, or a loss-scaling callback's).
    const inner = ctx.stepOpt;
    this.inner = inner;
    ctx.stepOpt = (opt: tf.Optimizer, c: LuzContext) => this.accumulate(opt, c);
    ctx.addCleanup(() => {
      this.reset();
      ctx.stepOpt = inner;
    });
  },
  accumulate(opt: tf.Optimizer, ctx: LuzContext) {
    const accumulators = this.accumulators as Map<tf.Optimizer, Accumulator>;
    let acc = accumulators.get(opt);
    if (!acc) accumulators.set(opt, (acc = { sums: {}, count: 0 }));
    for (const [name, g] of Object.entries(ctx.grads ?? {})) {
      if (!(g instanceof tf.Tensor)) continue;
      const prev = acc.sums[name];
      acc.sums[name] = tf.keep(prev ? tf.add(prev, g) : tf.clone(g));
      prev?.dispose();
    }
    acc.count += 1;
    if (acc.count >= this.steps) this.apply(opt, ctx, acc);
  },
  apply(opt: tf.Optimizer, ctx: LuzContext, acc: Accumulator) {
    const averaged = tf.tidy(() => Object.fromEntries(Object.entries(acc.sums).map(([name, s]) => [name, tf.div(s, acc.count)])));
    const original = ctx.grads;
    ctx.grads = averaged;
    try {
      (this.inner as StepOpt)(opt, ctx);
    } finally {
      ctx.grads = original;
      tf.dispose(averaged);
      tf.dispose(Object.values(acc.sums));
      acc.sums = {};
      acc.count = 0;
    }
  },
  onTrainEnd(ctx: LuzContext) {
    // A last, incomplete group of batches still updates the weights (averaged over its size).
    for (const [opt, acc] of this.accumulators as Map<tf.Optimizer, Accumulator>) {
      if (acc.count > 0) this.apply(opt, ctx, acc);
    }
  },
  reset() {
    for (const acc of (this.accumulators as Map<tf.Optimizer, Accumulator>).values()) tf.dispose(Object.values(acc.sums));
    this.accumulators.clear();
  },
});

/**
 * Gradient accumulation (beyond luz, which needs a custom `step`): the gradients of `steps`
 * consecutive training batches are averaged and applied in one optimizer step, so `steps` batches
 * of size `b` train like one batch of size `steps·b` (for losses that average over the batch). A
 * last incomplete group at the end of an epoch is applied too, averaged over its own size.
 * It wraps `ctx.stepOpt` at `onFitBegin`, keeps the running sums itself and frees them at the end
 * of the run. Each optimizer of a multi-optimizer model accumulates separately.
 *
 * @param options - `steps`: batches per optimizer step (default 2).
 * @example
 * ```ts
 * // Effective batch 128 with batches of 32:
 * await fit(module, data, { dataloaderOptions: { batchSize: 32 }, callbacks: [luzCallbackGradientAccumulation({ steps: 4 })] });
 * ```
 */
export function luzCallbackGradientAccumulation(options: GradientAccumulationOptions = {}): LuzCallback {
  const where = 'luzCallbackGradientAccumulation()';
  checkKeys(where, options, ['steps']);
  const steps = checkScalar(where, 'steps', options.steps ?? 2, (x) => Number.isInteger(x) && x >= 1, 'an integer >= 1');
  return accumulationCallback({ steps });
}
