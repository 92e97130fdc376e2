/**
 * The batch loops shared by fit, evaluate and predict, and luz's default step.
 * @internal
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { LuzContext } from './context.js';
import { LuzError, LuzInterruptSignal } from './errors.js';
import type { LuzDataloader } from './data.js';

/** Every tensor reachable from a value (tensor, array, plain object), for keep/dispose. */
export function tensorsIn(x: unknown, out: tf.Tensor[] = [], depth = 0): tf.Tensor[] {
  if (x instanceof tf.Tensor) out.push(x);
  else if (depth < 4 && Array.isArray(x)) for (const v of x) tensorsIn(v, out, depth + 1);
  else if (depth < 4 && x && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    for (const v of Object.values(x)) tensorsIn(v, out, depth + 1);
  }
  return out;
}

/** Tensors kept past the gradient function's tidy during one batch; disposed at the batch end. */
const keptThisBatch: tf.Tensor[] = [];

function keepAll(x: unknown): void {
  for (const t of tensorsIn(x)) if (!t.kept) keptThisBatch.push(tf.keep(t));
}

/**
 * Iterates a loader, running `body` for each batch inside a tensor scope: every tensor created
 * during the batch (by the loader, the step or callbacks) is freed at its end unless `tf.keep`-ed.
 */
export async function forEachBatch(ctx: LuzContext, loader: LuzDataloader, body: () => Promise<void>, maintainIter = true): Promise<void> {
  const it = loader[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      tf.engine().startScope();
      try {
        const next = await it.next();
        if (next.done) {
          finished = true;
          return;
        }
        if (!Array.isArray(next.value)) throw new LuzError(`A batch must be an array [input, target, ...]; the loader yielded ${typeof next.value}.`);
        ctx.batch = next.value;
        if (maintainIter) ctx.iter += 1;
        await body();
      } finally {
        for (const t of keptThisBatch.splice(0)) t.dispose();
        ctx.grads = undefined;
        ctx.lossGrad = undefined;
        tf.engine().endScope();
      }
      if (ctx.interruptRequested) throw new LuzInterruptSignal('Interrupted');
    }
  } finally {
    if (!finished) await it.return?.();
  }
}

/**
 * After a gradient computation throws (a kernel missing on the backend, a failing custom
 * gradient), tfjs leaves its tape behind with the tensors it saved for the backward pass kept
 * alive. Free them, as a successful backward pass would.
 */
function discardTape(): void {
  const state = (tf.engine() as unknown as { state: { activeTape: Array<{ saved?: tf.Tensor[] }> | null; gradientDepth: number } }).state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

function checkScalarLoss(loss: unknown, where: string): tf.Scalar {
  if (!(loss instanceof tf.Tensor)) throw new LuzError(`The loss function must return a tensor (${where}), got ${typeof loss}.`);
  if (loss.rank !== 0) {
    throw new LuzError(`The loss function must return a scalar (${where}), got shape [${loss.shape.join(', ')}]. A loss with reduction 'none' must be reduced or wrapped (e.g. nnMixupLoss).`);
  }
  return loss as tf.Scalar;
}

/**
 * `tf.variableGrads`, freeing the tape's saved tensors when the computation throws (a kernel
 * missing on the backend, a failing custom gradient), as a successful backward pass would.
 */
function variableGrads(f: () => tf.Scalar, variables: tf.Variable[]): tf.NamedTensorMap {
  try {
    return tf.variableGrads(f, variables).grads;
  } catch (e) {
    discardTape();
    throw e;
  }
}

/**
 * The forward pass and loss of one optimizer, inside tfjs's gradient function: luz's
 * `on_train_batch_after_pred`, `..._after_loss` and `..._before_backward` fire here, synchronously.
 * Returns the tensor whose gradient is taken (`ctx.lossGrad`, through `backward` if any).
 */
function forwardAndLoss(ctx: LuzContext, name: string, opt: tf.Optimizer, backward?: (loss: tf.Scalar, ctx: LuzContext) => tf.Scalar): tf.Scalar {
  ctx.pred = ctx.model.forward(ctx.input, { training: true });
  keepAll(ctx.pred);
  ctx.callCallbacksSync('onTrainBatchAfterPred');
  keepAll(ctx.pred);
  ctx.opt = opt;
  ctx.optName = name;
  const loss = checkScalarLoss(ctx.lossFn(ctx.pred, ctx.target), `optimizer '${name}'`);
  keepAll(loss);
  ctx.lossGrad = loss;
  ctx.loss[name] = loss;
  ctx.callCallbacksSync('onTrainBatchAfterLoss');
  ctx.callCallbacksSync('onTrainBatchBeforeBackward');
  let out = checkScalarLoss(ctx.lossGrad, 'ctx.lossGrad');
  if (backward) out = checkScalarLoss(backward(out, ctx), 'backward()');
  keepAll(ctx.lossGrad);
  keepAll(ctx.loss);
  return out;
}

/** luz's `fit_one_batch`: one forward pass, loss, backward and step per optimizer. */
export async function trainOneBatch(ctx: LuzContext, backward?: (loss: tf.Scalar, ctx: LuzContext) => tf.Scalar): Promise<void> {
  for (const name of Object.keys(ctx.optimizers)) {
    const opt = ctx.optimizers[name];
    const grads = variableGrads(() => forwardAndLoss(ctx, name, opt, backward), ctx.optimizerVariables[name]);
    ctx.grads = grads;
    await ctx.callCallbacks('onTrainBatchBeforeStep');
    ctx.stepOpt(opt, ctx);
    tf.dispose(grads);
    tf.dispose(ctx.grads);
    ctx.grads = undefined;
    await ctx.callCallbacks('onTrainBatchAfterStep');
  }
}

/** luz's `valid_one_batch`: one forward pass and loss per optimizer, without gradients. */
export async function validOneBatch(ctx: LuzContext, optimizerNames: string[]): Promise<void> {
  for (const name of optimizerNames) {
    ctx.optName = name;
    ctx.pred = ctx.model.forward(ctx.input, { training: false });
    await ctx.callCallbacks('onValidBatchAfterPred');
    ctx.loss[name] = checkScalarLoss(ctx.lossFn(ctx.pred, ctx.target), `validation, optimizer '${name}'`);
    await ctx.callCallbacks('onValidBatchAfterLoss');
  }
}

/** luz's `valid_loop`: the validation part of an epoch (and the whole of `evaluate`). */
export async function validLoop(ctx: LuzContext, step: () => Promise<void>): Promise<void> {
  await ctx.callCallbacks('onValidBegin');
  ctx.iter = 0;
  await forEachBatch(ctx, ctx.data!, async () => {
    await ctx.callCallbacks('onValidBatchBegin');
    await step();
    await ctx.callCallbacks('onValidBatchEnd');
  });
  await ctx.callCallbacks('onValidEnd');
}
