/**
 * Reading and setting the learning rate and momentum of tfjs optimizers.
 *
 * tfjs has no public learning-rate setter except on SGD/Momentum. What each built-in optimizer
 * does with its hyper-parameters (tfjs-core 4.22, `dist/optimizers/*.js`):
 *
 * - `SGD`, `Momentum`: cache `-learningRate` in a kept scalar `c` → must go through
 *   `setLearningRate`, which replaces `c`.
 * - `Adam`, `Adamax`, `RMSProp`, `Adagrad`, `Adadelta`: read the (protected) `learningRate` field in
 *   every `applyGradients` → assigning the field is enough.
 * - `Momentum` caches its momentum in a private scalar `m` and its `setMomentum()` does not update
 *   it (a tfjs bug): we replace `m` ourselves.
 * - `Adam` / `Adamax` keep `accBeta1 = beta1^t` for bias correction; when `beta1` changes we reset it
 *   to `beta1^(t+1)`, which is what PyTorch uses (`1 - beta1^step` with the current `beta1`).
 * - `RMSProp` reads its `momentum` field in every step.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, describeValue } from '@luzts/core';

/**
 * The optimizers whose learning rate this package can drive (by `getClassName()`).
 *
 * @example
 * ```ts
 * supportedOptimizers.includes(tf.train.adam(0.01).getClassName()); // true
 * ```
 */
export const supportedOptimizers = ['SGD', 'Momentum', 'Adam', 'Adamax', 'RMSProp', 'Adagrad', 'Adadelta'] as const;

type Fields = Record<string, unknown>;

function className(opt: unknown): string {
  if (!(opt instanceof tf.Optimizer) && !(opt && typeof (opt as tf.Optimizer).applyGradients === 'function')) {
    throw new LuzError(`Expected a tf.Optimizer, got ${describeValue(opt)}.`);
  }
  const name = typeof (opt as tf.Optimizer).getClassName === 'function' ? (opt as tf.Optimizer).getClassName() : undefined;
  return typeof name === 'string' ? name : (opt as object).constructor?.name ?? 'unknown';
}

function isKnown(name: string): boolean {
  return (supportedOptimizers as readonly string[]).includes(name);
}

function unsupported(name: string, what: string): LuzError {
  return new LuzError(
    `Can't ${what} of optimizer '${name}': only ${supportedOptimizers.join(', ')} (tf.train.*) and optimizers with a ` +
      'setLearningRate(lr) method and a numeric learningRate field are supported.',
  );
}

/**
 * The learning rate an optimizer uses at its next step.
 *
 * @example
 * ```ts
 * getLearningRate(tf.train.adam(0.01)); // 0.01
 * ```
 */
export function getLearningRate(opt: tf.Optimizer): number {
  const name = className(opt);
  const lr = (opt as unknown as Fields).learningRate;
  if (typeof lr !== 'number') throw unsupported(name, 'read the learning rate');
  return lr;
}

/**
 * Sets the learning rate an optimizer uses from its next step on. Works for every built-in tfjs
 * optimizer (`sgd`, `momentum`, `adam`, `adamax`, `rmsprop`, `adagrad`, `adadelta`) and for
 * custom optimizers that have a `setLearningRate(lr)` method; throws a `LuzError` otherwise.
 *
 * @example
 * ```ts
 * const opt = tf.train.adam(0.01);
 * setLearningRate(opt, 0.001);
 * ```
 */
export function setLearningRate(opt: tf.Optimizer, lr: number): void {
  const name = className(opt);
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new LuzError(`setLearningRate(): 'lr' must be a finite number >= 0, got ${describeValue(lr)}.`);
  }
  const fields = opt as unknown as Fields;
  const custom = !isKnown(name);
  if (custom && (typeof fields.setLearningRate !== 'function' || typeof fields.learningRate !== 'number')) {
    throw unsupported(name, 'set the learning rate');
  }
  if (name === 'SGD' || name === 'Momentum' || custom) {
    // SGD and Momentum cache -lr as a kept scalar; their setter replaces it.
    (fields.setLearningRate as (lr: number) => void).call(opt, lr);
  } else {
    // The others read the (protected) field at every applyGradients.
    fields.learningRate = lr;
  }
}

/**
 * Name of the momentum-like hyper-parameter of an optimizer: `'momentum'` (Momentum, RMSProp),
 * `'beta1'` (Adam, Adamax), or `undefined` when it has none (SGD, Adagrad, Adadelta, others).
 *
 * @example
 * ```ts
 * momentumKind(tf.train.adam(0.01)); // 'beta1'
 * ```
 */
export function momentumKind(opt: tf.Optimizer): 'momentum' | 'beta1' | undefined {
  const name = className(opt);
  if (name === 'Momentum' || name === 'RMSProp') return 'momentum';
  if (name === 'Adam' || name === 'Adamax') return 'beta1';
  return undefined;
}

/**
 * The momentum (Momentum, RMSProp) or `beta1` (Adam, Adamax) of an optimizer; `undefined` when it
 * has none.
 *
 * @example
 * ```ts
 * getMomentum(tf.train.momentum(0.1, 0.9)); // 0.9
 * ```
 */
export function getMomentum(opt: tf.Optimizer): number | undefined {
  const kind = momentumKind(opt);
  if (!kind) return undefined;
  return (opt as unknown as Fields)[kind] as number;
}

/**
 * Sets the momentum (Momentum, RMSProp) or `beta1` (Adam, Adamax) an optimizer uses from its next
 * step on. Throws a `LuzError` for an optimizer without one.
 *
 * @example
 * ```ts
 * const opt = tf.train.adam(0.01);
 * setMomentum(opt, 0.85); // beta1
 * ```
 */
export function setMomentum(opt: tf.Optimizer, momentum: number): void {
  const kind = momentumKind(opt);
  const name = className(opt);
  if (!kind) throw new LuzError(`Can't set the momentum of optimizer '${name}': it has no momentum or beta1 (supported: Momentum, RMSProp, Adam, Adamax).`);
  if (typeof momentum !== 'number' || !Number.isFinite(momentum) || momentum < 0) {
    throw new LuzError(`setMomentum(): 'momentum' must be a finite number >= 0, got ${describeValue(momentum)}.`);
  }
  const fields = opt as unknown as Fields;
  fields[kind] = momentum;
  if (name === 'Momentum') {
    // tfjs's setMomentum() forgets the cached scalar used by applyGradients.
    const old = fields.m as tf.Tensor | undefined;
    fields.m = tf.keep(tf.scalar(momentum));
    old?.dispose();
  } else if (kind === 'beta1') {
    // Bias correction with the current beta1 at the next step t = iterations + 1 (as PyTorch).
    const acc = fields.accBeta1 as tf.Variable;
    tf.tidy(() => acc.assign(tf.scalar(momentum ** (opt.iterations + 1))));
  }
}
