/**
 * Models and module generators: `setup()`, `setHparams()`, `setOptHparams()` and the small model
 * interface the loop trains.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, describe, checkOptionKeys } from './errors.js';
import type { LuzContext } from './context.js';
import { luzMetricSet, isLuzMetricSet, type LuzMetricGenerator, type LuzMetricSet } from './metric.js';

/** Hyper-parameters passed to the module factory or the optimizer factory. */
export type Hparams = Record<string, unknown>;

/** Input or target of a batch: a tensor, or (for multi-input models, mixup targets, ...) any structure. */
export type BatchElement = tf.Tensor | tf.Tensor[] | Record<string, unknown> | unknown;

/**
 * A loss: takes the prediction and the target and returns a scalar (or, with `reduction: 'none'`,
 * per-sample losses). The losses of `@luzts/losses` also carry a settable `reduction`.
 */
export type LossFn = (pred: any, target: any) => tf.Tensor;

/** An optimizer together with the variables it updates (several optimizers, GAN-style). */
export interface OptimizerWithVariables {
  optimizer: tf.Optimizer;
  /** The variables this optimizer updates. Default: every trainable variable of the model. */
  variables?: tf.Variable[];
}

/** What `setOptimizers` may return: one optimizer, or named ones (luz's named list). */
export type OptimizerSpec = tf.Optimizer | OptimizerWithVariables | Record<string, tf.Optimizer | OptimizerWithVariables>;

/**
 * The model interface the loop trains. A `tf.LayersModel` is adapted automatically; custom models
 * implement `forward`, `trainableVariables`, `getWeights` and `setWeights`, and may define
 * `loss`, `step`, `setOptimizers`, `predict` and `backward` (luz's optional module methods).
 *
 * @example
 * ```ts
 * const w = tf.variable(tf.zeros([3, 1]));
 * const linear: LuzModuleInterface = {
 *   forward: (x) => tf.matMul(x as tf.Tensor2D, w),
 *   trainableVariables: () => [w],
 *   getWeights: () => [w],
 *   setWeights: ([v]) => w.assign(v),
 * };
 * const module = setup(() => linear, { loss: tf.losses.meanSquaredError, optimizer: () => tf.train.adam(0.01) });
 * ```
 */
export interface LuzModuleInterface {
  /** Runs the model. `training` is `ctx.training` (dropout, batch norm). */
  forward(input: any, options: { training: boolean }): any;
  /** Every variable an optimizer may update. */
  trainableVariables(): tf.Variable[];
  /** Every weight (trainable or not), in a fixed order, for checkpoints. */
  getWeights(): tf.Tensor[];
  /** Restores weights returned by `getWeights`, same order and shapes. */
  setWeights(weights: tf.Tensor[]): void;
  /** Names of the weights, same order as `getWeights` (default: `weight_0`, `weight_1`, ...). */
  weightNames?(): string[];
  /** The module's own loss, used when `setup` has none. */
  loss?(pred: any, target: any, ctx: LuzContext): tf.Tensor;
  /** A custom step replacing the default train/valid step (luz's custom loops). */
  step?(ctx: LuzContext): void | Promise<void>;
  /** The module's own optimizers, used when `setup` has none. */
  setOptimizers?(optHparams: Hparams): OptimizerSpec;
  /** Used by `predict()` instead of `forward`. */
  predict?(input: any): any;
  /** Transforms the loss whose gradient is taken (luz's `backward`); runs inside the gradient function. */
  backward?(loss: tf.Scalar, ctx: LuzContext): tf.Scalar;
  /** Frees the model's weights. */
  dispose?(): void;
}

/** What a module factory returns: a `tf.LayersModel` or a {@link LuzModuleInterface}. */
export type LuzModuleLike = tf.LayersModel | LuzModuleInterface;

/** The model as the loop sees it (`ctx.model`): a {@link LuzModuleInterface}, plus the wrapped `tf.LayersModel` if any. */
export interface LuzModule extends LuzModuleInterface {
  weightNames(): string[];
  /** The `tf.LayersModel` this module adapts, when the factory returned one. */
  readonly layersModel?: tf.LayersModel;
}

/** Adapts a `tf.LayersModel` or a custom model object to {@link LuzModule}. */
export function asLuzModule(model: LuzModuleLike): LuzModule {
  if (model instanceof tf.LayersModel) return layersModule(model);
  if (model && typeof model === 'object' && typeof (model as LuzModuleInterface).forward === 'function') {
    const m = model as LuzModuleInterface;
    for (const method of ['trainableVariables', 'getWeights', 'setWeights'] as const) {
      if (typeof m[method] !== 'function') {
        throw new LuzError(`The module factory returned a custom model without a '${method}' method; a custom model must implement forward, trainableVariables, getWeights and setWeights.`);
      }
    }
    if (typeof m.weightNames !== 'function') {
      const names = () => m.getWeights().map((_, i) => `weight_${i}`);
      return Object.assign(m, { weightNames: names }) as LuzModule;
    }
    return m as LuzModule;
  }
  throw new LuzError(`The module factory must return a tf.LayersModel or an object with a forward(input, { training }) method, got ${describe(model)}.`);
}

function layersModule(model: tf.LayersModel): LuzModule {
  return {
    layersModel: model,
    forward: (input, { training }) => model.apply(input as tf.Tensor | tf.Tensor[], { training }),
    trainableVariables: () => model.trainableWeights.map((w) => w.read() as tf.Variable),
    getWeights: () => model.weights.map((w) => w.read()),
    setWeights: (weights) => model.setWeights(weights),
    weightNames: () => model.weights.map((w) => w.originalName ?? w.name),
    dispose: () => {
      model.dispose();
    },
  };
}

/** Options of {@link setup}. */
export interface SetupOptions {
  /** The loss `(pred, target) => scalar`. Default: the module's own `loss`. */
  loss?: LossFn;
  /** `(optHparams) => tf.Optimizer`. Default: the module's own `setOptimizers`. */
  optimizer?: (optHparams: Hparams) => tf.Optimizer;
  /** Metrics: an array of metric generators or a {@link luzMetricSet}. The loss average is always added. Default: loss only. */
  metrics?: LuzMetricGenerator[] | LuzMetricSet;
  /** Transforms the loss before gradients are taken (luz's `backward`). Default: identity. */
  backward?: (loss: tf.Scalar, ctx: LuzContext) => tf.Scalar;
}

/** A module generator returned by {@link setup}; pass it to `fit`. */
export interface LuzModuleGenerator {
  readonly kind: 'luz_module_generator';
  readonly factory: (hparams: Hparams) => LuzModuleLike;
  readonly loss?: LossFn;
  readonly optimizer?: (optHparams: Hparams) => tf.Optimizer;
  readonly metrics: LuzMetricSet;
  readonly backward?: (loss: tf.Scalar, ctx: LuzContext) => tf.Scalar;
  readonly hparams: Hparams;
  readonly optHparams: Hparams;
}

/**
 * Describes how to build and train a model (luz's `setup`). Errors for a missing loss or optimizer
 * are raised when the model is built (at `fit`), because the module may define its own.
 *
 * @param moduleFactory - `(hparams) => tf.LayersModel | LuzModuleInterface`, called once per `fit`.
 * @param options - loss, optimizer, metrics, backward (all optional, see {@link SetupOptions}).
 * @example
 * ```ts
 * const module = setup(
 *   ({ units = 32 }) => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: units as number, activation: 'relu' }), tf.layers.dense({ units: 1 })] }),
 *   { loss: tf.losses.meanSquaredError, optimizer: ({ lr = 0.01 }) => tf.train.adam(lr as number) },
 * );
 * const fitted = await fit(setHparams(module, { units: 64 }), [x, y], { epochs: 5 });
 * ```
 */
export function setup(moduleFactory: (hparams: Hparams) => LuzModuleLike, options: SetupOptions = {}): LuzModuleGenerator {
  if (typeof moduleFactory !== 'function') {
    throw new LuzError(`setup(): 'moduleFactory' must be a function (hparams) => model, got ${describe(moduleFactory)}. Pass a factory, not a built model.`);
  }
  checkOptionKeys('setup()', options, ['loss', 'optimizer', 'metrics', 'backward']);
  for (const key of ['loss', 'optimizer', 'backward'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') {
      throw new LuzError(`setup(): '${key}' must be a function, got ${describe(options[key])}.`);
    }
  }
  const metrics = isLuzMetricSet(options.metrics) ? options.metrics : luzMetricSet({ metrics: options.metrics ?? [] });
  return Object.freeze({
    kind: 'luz_module_generator' as const,
    factory: moduleFactory,
    loss: options.loss,
    optimizer: options.optimizer,
    metrics,
    backward: options.backward,
    hparams: {},
    optHparams: {},
  });
}

function checkGenerator(where: string, module: unknown): asserts module is LuzModuleGenerator {
  if (!module || (module as LuzModuleGenerator).kind !== 'luz_module_generator') {
    throw new LuzError(`${where}: 'module' must be a module generator returned by setup(), got ${describe(module)}.`);
  }
}

/**
 * Returns a new generator whose model is built with `hparams` (replaces, not merges, earlier ones).
 * @example
 * ```ts
 * const fitted = await fit(setHparams(module, { units: 64 }), data);
 * ```
 */
export function setHparams(module: LuzModuleGenerator, hparams: Hparams): LuzModuleGenerator {
  checkGenerator('setHparams()', module);
  return Object.freeze({ ...module, hparams: { ...hparams } });
}

/**
 * Returns a new generator whose optimizers are built with `optHparams` (replaces earlier ones).
 * @example
 * ```ts
 * const fitted = await fit(setOptHparams(module, { lr: 1e-3 }), data);
 * ```
 */
export function setOptHparams(module: LuzModuleGenerator, optHparams: Hparams): LuzModuleGenerator {
  checkGenerator('setOptHparams()', module);
  return Object.freeze({ ...module, optHparams: { ...optHparams } });
}

export { checkGenerator };

/** Normalised optimizers: name → optimizer and the variables it updates. */
export interface NamedOptimizers {
  optimizers: Record<string, tf.Optimizer>;
  variables: Record<string, tf.Variable[]>;
}

function isOptimizer(x: unknown): x is tf.Optimizer {
  return !!x && typeof x === "object" && typeof (x as tf.Optimizer).applyGradients === "function" && typeof (x as tf.Optimizer).minimize === "function";
}

/** Builds the optimizers of a module (luz's `set_optimizers` + `ctx_check_optimizers`). */
export function buildOptimizers(generator: LuzModuleGenerator, model: LuzModule): NamedOptimizers {
  let spec: OptimizerSpec;
  if (generator.optimizer) spec = generator.optimizer(generator.optHparams);
  else if (model.setOptimizers) spec = model.setOptimizers(generator.optHparams);
  else if (model.step) return { optimizers: {}, variables: {} };
  else {
    throw new LuzError('No optimizer definition has been provided. Use the `optimizer` option of setup() or implement `setOptimizers` in the module.');
  }
  const all = () => model.trainableVariables();
  const normalise = (name: string, s: unknown): [tf.Optimizer, tf.Variable[]] => {
    if (isOptimizer(s)) return [s, all()];
    if (s && typeof s === 'object' && isOptimizer((s as OptimizerWithVariables).optimizer)) {
      const v = (s as OptimizerWithVariables).variables;
      return [(s as OptimizerWithVariables).optimizer, v ?? all()];
    }
    throw new LuzError(`Optimizer '${name}' must be a tf.Optimizer or { optimizer, variables }, got ${describe(s)}.`);
  };
  const out: NamedOptimizers = { optimizers: {}, variables: {} };
  const entries = isOptimizer(spec) || isOptimizer((spec as OptimizerWithVariables).optimizer)
    ? [['opt', spec] as const]
    : Object.entries(spec as Record<string, unknown>);
  if (entries.length === 0) throw new LuzError('setOptimizers returned no optimizer.');
  for (const [name, s] of entries) {
    const [opt, vars] = normalise(name, s);
    out.optimizers[name] = opt;
    out.variables[name] = vars;
  }
  return out;
}
