/**
 * Model and optimizer state: read it (live tensors), check a saved state against a model, and
 * restore it. Used by checkpoints, `luzSave` and keep-best-model.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError } from './errors.js';
import type { LuzModule } from './module.js';

/** Shape and dtype of a saved tensor (a `tf.Tensor` or a decoded `StoredTensor`). */
export interface TensorLikeInfo {
  readonly shape: readonly number[];
  readonly dtype: string;
}

/** Model weights by name, in the model's `getWeights()` order. */
export interface ModelState<T extends TensorLikeInfo = tf.Tensor> {
  names: string[];
  weights: T[];
}

/**
 * Stable weight names of a model. For a `tf.LayersModel`, structural names that do not depend on
 * the auto-numbered layer names (`0.kernel`, `1.0.bias` for a nested model), so that a new
 * instance of the same architecture (in this process or another) matches; for a custom model,
 * its `weightNames()`.
 */
export function modelWeightNames(model: LuzModule): string[] {
  const lm = model.layersModel;
  if (!lm) return model.weightNames();
  const paths = new Map<unknown, string>();
  const walk = (layers: readonly tf.layers.Layer[], prefix: string) => {
    layers.forEach((layer, i) => {
      const nested = (layer as unknown as { layers?: tf.layers.Layer[] }).layers;
      if (Array.isArray(nested) && nested.length) walk(nested, `${prefix}${i}.`);
      for (const w of layer.weights) {
        if (paths.has(w)) continue;
        const name = w.originalName ?? w.name;
        const local = name.startsWith(`${layer.name}/`) ? name.slice(layer.name.length + 1) : name.slice(name.lastIndexOf('/') + 1);
        paths.set(w, `${prefix}${i}.${local}`);
      }
    });
  };
  walk(lm.layers, '');
  return lm.weights.map((w, i) => paths.get(w) ?? `weight_${i}`);
}

/** The model's current weights (live tensors: read them, don't dispose them) with stable names. */
export function readModelState(model: LuzModule): ModelState {
  return { names: modelWeightNames(model), weights: model.getWeights() };
}

const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Throws a {@link LuzError} naming the first weight that differs (name, shape or dtype) between a
 * saved state and the model, or when their counts differ.
 */
export function checkModelState(model: LuzModule, saved: ModelState<TensorLikeInfo>, source: string): void {
  const current = readModelState(model);
  const n = Math.max(current.names.length, saved.names.length);
  for (let i = 0; i < n; i++) {
    const name = saved.names[i];
    const want = current.names[i];
    if (name === undefined) {
      throw new LuzError(`${source} does not match the model: the model has ${current.names.length} weights, the checkpoint ${saved.names.length}; the first missing one is '${want}' ${shapeStr(current.weights[i].shape)}.`);
    }
    if (want === undefined) {
      throw new LuzError(`${source} does not match the model: the checkpoint has ${saved.names.length} weights, the model ${current.names.length}; the first extra one is '${name}' ${shapeStr(saved.weights[i].shape)}.`);
    }
    const a = saved.weights[i];
    const b = current.weights[i];
    if (name !== want || shapeStr(a.shape) !== shapeStr(b.shape) || a.dtype !== b.dtype) {
      throw new LuzError(
        `${source} does not match the model: weight ${i + 1} is '${name}' ${shapeStr(a.shape)} (${a.dtype}) in the checkpoint but '${want}' ${shapeStr(b.shape)} (${b.dtype}) in the model.`,
      );
    }
  }
}

/** Assigns weights (same order as `getWeights`) to the model. The caller keeps ownership of `weights`. */
export function assignModelWeights(model: LuzModule, weights: tf.Tensor[]): void {
  model.setWeights(weights);
}

// ---- Optimizers ---------------------------------------------------------------------------

/** One piece of an optimizer's state: a scalar/tensor field, or one slot of a per-variable array. */
export interface OptimizerSlot<T = tf.Tensor> {
  /** The optimizer's field (`accBeta1`, `accumulatedFirstMoment`, ...). */
  field: string;
  /** Position in a per-variable array field; absent for a plain variable field. */
  index?: number;
  /** tfjs's name for the slot (`dense/kernel/m`), informative only. */
  originalName?: string;
  tensor: T;
}

/** The whole state of a tfjs optimizer: its class, iteration count and every state variable. */
export interface OptimizerState<T = tf.Tensor> {
  className: string;
  iterations: number;
  slots: OptimizerSlot<T>[];
}

interface SlotEntry {
  originalName: string;
  variable: tf.Variable;
}

type OptimizerFields = Record<string, unknown> & { iterations_?: number };

function isSlotArray(x: unknown): x is Array<SlotEntry | undefined> {
  return Array.isArray(x) && x.length > 0 && x.every((e) => e == null || (typeof e === 'object' && (e as SlotEntry).variable instanceof tf.Variable));
}

function className(opt: tf.Optimizer): string {
  return (opt.constructor as { className?: string }).className ?? opt.getClassName?.() ?? opt.constructor.name;
}

/**
 * Reads an optimizer's complete state (live variables: read them, don't dispose them). tfjs's own
 * `getWeights()` misses state: Adam's running `beta^t` products are recomputed with `pow` on
 * `setWeights` (not bit-identical to the running product, so a resumed run would drift), and
 * Adamax's throws. So every `tf.Variable` field and every per-variable slot array
 * (`{ originalName, variable }[]`, the convention of all tfjs optimizers) is saved, with the
 * iteration count.
 */
export function readOptimizerState(opt: tf.Optimizer): OptimizerState {
  const fields = opt as unknown as OptimizerFields;
  const slots: OptimizerSlot[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (value instanceof tf.Variable) slots.push({ field, tensor: value });
    else if (isSlotArray(value)) {
      value.forEach((e, index) => {
        if (e) slots.push({ field, index, originalName: e.originalName, tensor: e.variable });
      });
    }
  }
  return { className: className(opt), iterations: opt.iterations, slots };
}

/** The per-variable array fields an optimizer has now (possibly empty before its first step). */
function arrayFields(opt: tf.Optimizer): string[] {
  return Object.entries(opt as unknown as OptimizerFields)
    .filter(([, v]) => Array.isArray(v) && (v.length === 0 || isSlotArray(v)))
    .map(([k]) => k);
}

/**
 * Checks that a saved optimizer state fits `opt` (same class; slot shapes equal the shapes of the
 * variables it updates). Throws a {@link LuzError} naming the optimizer and the first mismatch.
 */
export function checkOptimizerState(opt: tf.Optimizer, saved: OptimizerState<TensorLikeInfo>, name: string, variables: readonly tf.Variable[] | undefined, source: string): void {
  const cls = className(opt);
  if (saved.className !== cls) {
    throw new LuzError(`${source} does not match optimizer '${name}': the checkpoint holds a ${saved.className} state, the optimizer is ${cls}.`);
  }
  const fields = opt as unknown as OptimizerFields;
  for (const s of saved.slots) {
    if (s.index === undefined) {
      const current = fields[s.field];
      if (!(current instanceof tf.Variable)) throw new LuzError(`${source} does not match optimizer '${name}' (${cls}): it has no variable field '${s.field}'.`);
      if (shapeStr(current.shape) !== shapeStr(s.tensor.shape)) {
        throw new LuzError(`${source} does not match optimizer '${name}': '${s.field}' is ${shapeStr(s.tensor.shape)} in the checkpoint, ${shapeStr(current.shape)} in the optimizer.`);
      }
    } else if (variables) {
      const v = variables[s.index];
      if (!v) throw new LuzError(`${source} does not match optimizer '${name}': slot '${s.field}' ${s.index + 1} (${s.originalName}) has no matching variable; the optimizer updates ${variables.length}.`);
      if (shapeStr(v.shape) !== shapeStr(s.tensor.shape)) {
        throw new LuzError(`${source} does not match optimizer '${name}': slot '${s.originalName ?? s.field}' is ${shapeStr(s.tensor.shape)} in the checkpoint but the variable it belongs to ('${v.name}') is ${shapeStr(v.shape)}.`);
      }
    }
  }
}

/**
 * Restores a state read by {@link readOptimizerState} (or decoded from a file) into `opt`.
 * `tensorOf` turns a saved tensor into a `tf.Tensor`; variables are copied, the caller keeps
 * ownership of what it passes. Slot variables the optimizer has not created yet are created.
 */
export function restoreOptimizerState<T>(opt: tf.Optimizer, saved: OptimizerState<T>, tensorOf: (t: T) => tf.Tensor): void {
  const fields = opt as unknown as OptimizerFields;
  const arrays = new Map<string, Array<SlotEntry | undefined>>();
  for (const field of arrayFields(opt)) arrays.set(field, []);
  tf.tidy(() => {
    for (const s of saved.slots) {
      const value = tensorOf(s.tensor);
      if (s.index === undefined) {
        (fields[s.field] as tf.Variable).assign(value);
      } else {
        const list = arrays.get(s.field) ?? [];
        arrays.set(s.field, list);
        list[s.index] = { originalName: s.originalName ?? `${s.field}/${s.index}`, variable: tf.keep(tf.variable(value, false)) };
      }
    }
  });
  for (const [field, list] of arrays) {
    const old = fields[field];
    if (Array.isArray(old)) for (const e of old as Array<SlotEntry | undefined>) e?.variable.dispose();
    fields[field] = list;
  }
  fields.iterations_ = saved.iterations;
}
