/**
 * Checkpoints and saved models as bytes (browser-safe): what `@luzts/core/node` writes to files.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import type { LuzCallback } from './callback.js';
import { LuzContext, type LuzRecords } from './context.js';
import { LuzError, checkOptionKeys, describe } from './errors.js';
import { LuzModuleFitted } from './fitted.js';
import { asLuzModule, setup, type Hparams, type LuzModuleGenerator } from './module.js';
import { decodeLuzFile, encodeLuzFile, materializeAll, StoredTensor } from './serialization.js';
import {
  assignModelWeights,
  checkModelState,
  checkOptimizerState,
  readModelState,
  readOptimizerState,
  restoreOptimizerState,
  type ModelState,
  type OptimizerState,
} from './state.js';
import type { LuzRngState } from './rng.js';

/** What a luzts file holds: a checkpoint, a whole fitted model, or model weights only. */
export type LuzFileKind = 'checkpoint' | 'fitted' | 'weights';

/** A callback's saved state: its name, position in the sorted callback list, and `stateDict()`. */
export interface SavedCallbackState {
  name: string;
  position: number;
  state: unknown;
}

/** The contents of a decoded checkpoint (tensors still as `StoredTensor`s). */
export interface LuzCheckpointContents {
  kind: 'checkpoint';
  /** The epoch that had just ended. */
  epoch: number;
  maxEpochs: number;
  model: ModelState<StoredTensor>;
  optimizers: Record<string, OptimizerState<StoredTensor>>;
  records: LuzRecords;
  callbacks: SavedCallbackState[];
  rng: LuzRngState;
}

/** Options of {@link restoreCheckpoint} (and `luzLoadCheckpoint`). */
export interface LoadCheckpointOptions {
  /** Restore the model's weights. Default true. */
  restoreModelState?: boolean;
  /** Restore every optimizer's state (moments, iteration counts). Default true. */
  restoreOptimizerState?: boolean;
  /** Replace the records (metrics, profile, logs) with the saved ones. Default true. */
  restoreRecords?: boolean;
  /** Call `loadStateDict` of every callback that saved a state. Default true. */
  restoreCallbacksState?: boolean;
  /** Restore `ctx.rng` (shuffling, splits, mixup draws), so that a resumed run is the same run. Default true. */
  restoreRngState?: boolean;
}

const LOAD_KEYS = ['restoreModelState', 'restoreOptimizerState', 'restoreRecords', 'restoreCallbacksState', 'restoreRngState'] as const;

function callbackStates(callbacks: readonly LuzCallback[]): SavedCallbackState[] {
  const out: SavedCallbackState[] = [];
  callbacks.forEach((cb, position) => {
    if (typeof cb.stateDict !== 'function') return;
    const state = cb.stateDict();
    if (state !== undefined && state !== null) out.push({ name: cb.name, position, state });
  });
  return out;
}

/**
 * Encodes the state of a run (luz's `luz_checkpoint`): model weights, every optimizer's state,
 * records, each callback's `stateDict()` (keyed by name and position), the epoch and the RNG
 * state. Call it from a callback; `@luzts/core/node`'s `luzCheckpoint` writes it to a file.
 *
 * @example
 * ```ts
 * const saver = luzCallback({ name: 'saver', async onEpochEnd(ctx) { this.bytes = await encodeCheckpoint(ctx); } });
 * ```
 */
export async function encodeCheckpoint(ctx: LuzContext): Promise<Uint8Array> {
  if (!(ctx instanceof LuzContext)) throw new LuzError(`encodeCheckpoint(): expected the fit context ctx, got ${describe(ctx)}.`);
  const optimizers: Record<string, OptimizerState> = {};
  for (const [name, opt] of Object.entries(ctx.optimizers)) optimizers[name] = readOptimizerState(opt);
  return encodeLuzFile({
    format: 'luzts',
    kind: 'checkpoint',
    epoch: ctx.epoch,
    maxEpochs: ctx.maxEpochs,
    model: readModelState(ctx.model),
    optimizers,
    records: ctx.records,
    callbacks: callbackStates(ctx.callbacks),
    rng: ctx.rng.getState(),
  });
}

/** Decodes any luzts file and checks its kind. @internal */
export function decodeKind(bytes: Uint8Array, source: string, kinds: readonly LuzFileKind[]): Record<string, unknown> & { kind: LuzFileKind } {
  const { meta } = decodeLuzFile(bytes, source);
  const kind = meta.kind as LuzFileKind;
  if (meta.format !== 'luzts' || !kinds.includes(kind)) {
    const what = meta.format === 'luzts' ? `a '${String(kind)}' file` : 'not a file written by luzts';
    throw new LuzError(`${source} is ${what}; expected ${kinds.map((k) => `'${k}'`).join(' or ')}.`);
  }
  return meta as Record<string, unknown> & { kind: LuzFileKind };
}

/** Decodes a checkpoint (tensors stay as `StoredTensor`s until restored). */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): LuzCheckpointContents {
  return decodeKind(bytes, source, ['checkpoint']) as unknown as LuzCheckpointContents;
}

function restoreWeights(target: { model: import('./module.js').LuzModule }, saved: ModelState<StoredTensor>, source: string): void {
  checkModelState(target.model, saved, source);
  const weights = saved.weights.map((w) => w.materialize());
  try {
    assignModelWeights(target.model, weights);
  } finally {
    tf.dispose(weights);
  }
}

/**
 * Restores a checkpoint (luz's `luz_load_checkpoint`). With a fit context: model weights,
 * optimizer states, records, callback states and the RNG state (each optional). With a
 * fitted model: its weights only. A checkpoint from another model is an error naming the first
 * mismatching weight; nothing is changed then.
 *
 * @example
 * ```ts
 * const resume = luzCallback({ name: 'resume', onFitBegin(ctx) { restoreCheckpoint(ctx, bytes, { restoreRecords: false }); } });
 * ```
 */
export function restoreCheckpoint(target: LuzContext | LuzModuleFitted, bytes: Uint8Array | LuzCheckpointContents, options: LoadCheckpointOptions = {}, source = 'checkpoint'): LuzCheckpointContents {
  checkOptionKeys('luzLoadCheckpoint()', options, LOAD_KEYS);
  const state = bytes instanceof Uint8Array ? decodeCheckpoint(bytes, source) : bytes;
  if (target instanceof LuzModuleFitted) {
    restoreWeights(target, state.model, source);
    return state;
  }
  if (!(target instanceof LuzContext)) throw new LuzError(`luzLoadCheckpoint(): expected a fit context or a fitted model, got ${describe(target)}.`);
  const { restoreModelState = true, restoreOptimizerState: restoreOpt = true, restoreRecords = true, restoreCallbacksState = true, restoreRngState = true } = options;
  // Check everything first, so that a mismatch leaves the run untouched.
  if (restoreModelState) checkModelState(target.model, state.model, source);
  if (restoreOpt) {
    const saved = Object.keys(state.optimizers).sort();
    const current = Object.keys(target.optimizers).sort();
    if (saved.join('\u0000') !== current.join('\u0000')) {
      throw new LuzError(`${source} does not match the optimizers: it holds [${saved.join(', ')}], the model has [${current.join(', ')}].`);
    }
    for (const name of current) checkOptimizerState(target.optimizers[name], state.optimizers[name], name, target.optimizerVariables[name], source);
  }
  const callbackPlan = restoreCallbacksState ? planCallbacks(target.callbacks, state.callbacks, source) : [];
  if (restoreModelState) restoreWeights(target, state.model, source);
  if (restoreOpt) {
    for (const name of Object.keys(target.optimizers)) restoreOptimizerState(target.optimizers[name], state.optimizers[name], (t) => t.materialize());
  }
  if (restoreRecords) target.unsafeSetRecords(state.records);
  for (const [cb, saved] of callbackPlan) cb.loadStateDict!(materializeAll(saved));
  if (restoreRngState && Array.isArray(state.rng)) target.rng.setState(state.rng);
  return state;
}

/** Matches saved callback states to callbacks: same position and name, else the same occurrence of the name. */
function planCallbacks(callbacks: readonly LuzCallback[], saved: SavedCallbackState[], source: string): Array<[LuzCallback, unknown]> {
  const plan: Array<[LuzCallback, unknown]> = [];
  const seen = new Map<string, number>();
  for (const s of saved) {
    const occurrence = seen.get(s.name) ?? 0;
    seen.set(s.name, occurrence + 1);
    let cb: LuzCallback | undefined = callbacks[s.position]?.name === s.name ? callbacks[s.position] : undefined;
    cb ??= callbacks.filter((c) => c.name === s.name)[occurrence];
    if (!cb) {
      console.warn(`luzts: ${source} holds a state for callback '${s.name}', which is not attached to this run; it is ignored.`);
      continue;
    }
    if (typeof cb.loadStateDict !== 'function') {
      throw new LuzError(`Failed resuming the model from ${source}: callback '${s.name}' saved a state but doesn't implement loadStateDict().`);
    }
    plan.push([cb, s.state]);
  }
  return plan;
}

// ---- Whole fitted models and weights --------------------------------------------------------

/**
 * Encodes a fitted model (luz's `luz_save`): weights by name, records, hyper-parameters,
 * optimizer names and, for a `tf.LayersModel`, its topology (`model.toJSON()`), so that
 * {@link deserializeFitted} can rebuild it without the module.
 *
 * @example
 * ```ts
 * const bytes = await serializeFitted(fitted);
 * const again = await deserializeFitted(bytes);
 * ```
 */
export async function serializeFitted(fitted: LuzModuleFitted): Promise<Uint8Array> {
  if (!(fitted instanceof LuzModuleFitted)) {
    throw new LuzError(`luzSave only works with fitted models returned by fit() (or luzLoad()), got ${describe(fitted)}.`);
  }
  const lm = fitted.model.layersModel;
  return encodeLuzFile({
    format: 'luzts',
    kind: 'fitted',
    model: readModelState(fitted.model),
    topology: lm ? lm.toJSON(undefined, false) : null,
    records: fitted.records,
    hparams: jsonSafe(fitted.ctx.hparams, 'hparams'),
    optHparams: jsonSafe(fitted.ctx.optHparams, 'optHparams'),
    optimizerNames: fitted.optimizerNames,
  });
}

/** Hyper-parameters that can't be stored (functions, instances) are left out with a warning. */
function jsonSafe(h: Hparams, what: string): Hparams {
  const out: Hparams = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const plain = v === null || ['number', 'string', 'boolean', 'undefined'].includes(typeof v) || Array.isArray(v) || (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype);
    if (plain) out[k] = v;
    else console.warn(`luzts: luzSave: ${what}.${k} (${describe(v)}) can't be saved; luzLoad takes it from the module passed to it.`);
  }
  return out;
}

/**
 * Decodes a fitted model written by {@link serializeFitted} (luz's `luz_load`). A `tf.LayersModel`
 * is rebuilt from its saved topology; a custom model needs its module generator, whose factory is
 * called with the saved hyper-parameters. Pass the generator also to `evaluate` the loaded model
 * (losses and metrics are functions and are not saved).
 *
 * @example
 * ```ts
 * const fitted = await deserializeFitted(bytes, module);
 * ```
 */
export async function deserializeFitted(bytes: Uint8Array, module?: LuzModuleGenerator, source = 'saved model'): Promise<LuzModuleFitted> {
  const meta = decodeKind(bytes, source, ['fitted']);
  const hparams = { ...(module?.hparams ?? {}), ...((meta.hparams as Hparams) ?? {}) };
  const optHparams = { ...(module?.optHparams ?? {}), ...((meta.optHparams as Hparams) ?? {}) };
  let generator = module;
  let built;
  if (module) {
    if (module.kind !== 'luz_module_generator') throw new LuzError(`luzLoad(): 'module' must be a module generator returned by setup(), got ${describe(module)}.`);
    built = asLuzModule(module.factory(hparams));
  } else if (meta.topology) {
    const model = await tf.models.modelFromJSON(meta.topology as tf.io.ModelJSON['modelTopology'] as never);
    built = asLuzModule(model);
    generator = setup(() => {
      throw new LuzError('This module was rebuilt by luzLoad() from a saved topology; pass the module generator to luzLoad(path, module) to train it again.');
    });
  } else {
    throw new LuzError(`${source} holds a custom model (not a tf.LayersModel): its architecture can't be rebuilt from the file. Pass the module generator: luzLoad(path, module).`);
  }
  try {
    restoreWeights({ model: built }, meta.model as ModelState<StoredTensor>, source);
  } catch (e) {
    built.dispose?.();
    throw e;
  }
  const records = materializeAll(meta.records) as LuzRecords;
  return new LuzModuleFitted(built, records, { hparams, optHparams }, generator!, (meta.optimizerNames as string[]) ?? []);
}

/**
 * Encodes a fitted model's weights only (luz's `luz_save_model_weights`).
 * @example
 * ```ts
 * const bytes = await serializeModelWeights(fitted);
 * ```
 */
export async function serializeModelWeights(fitted: LuzModuleFitted): Promise<Uint8Array> {
  if (!(fitted instanceof LuzModuleFitted)) throw new LuzError(`luzSaveModelWeights(): expected a fitted model, got ${describe(fitted)}.`);
  return encodeLuzFile({ format: 'luzts', kind: 'weights', model: readModelState(fitted.model) });
}

/**
 * Loads weights into a fitted model in place (luz's `luz_load_model_weights`). Accepts a weights
 * file, a saved model or a checkpoint.
 * @example
 * ```ts
 * restoreModelWeights(fitted, bytes);
 * ```
 */
export function restoreModelWeights(fitted: LuzModuleFitted, bytes: Uint8Array, source = 'weights'): void {
  if (!(fitted instanceof LuzModuleFitted)) throw new LuzError(`luzLoadModelWeights(): expected a fitted model, got ${describe(fitted)}.`);
  const meta = decodeKind(bytes, source, ['weights', 'fitted', 'checkpoint']);
  restoreWeights(fitted, meta.model as ModelState<StoredTensor>, source);
}
