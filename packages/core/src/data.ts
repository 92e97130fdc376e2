/**
 * Data: `asDataloader()` turns tensors, arrays, `tf.data.Dataset`s and iterables into batches.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, describe, checkOptionKeys } from './errors.js';
import { LuzRng } from './rng.js';

/** A batch: `[input, target, ...]` (luz's `batch[[1]]`, `batch[[2]]`). */
export type Batch = unknown[];

/** A typed array accepted as 1-D data. */
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int8Array | Uint32Array;

/** Something that becomes a tensor: a tensor, a typed array (1-D), or nested number arrays. */
export type TensorLike = tf.Tensor | TypedArray | number[] | number[][] | number[][][] | number[][][][];

/** One element of a data tuple: a tensor-like, or several tensors for a multi-input model. */
export type TupleElement = TensorLike | tf.Tensor[];

/**
 * Data accepted by `fit`, `evaluate` and `predict`: a tensor (inputs only), a tuple `[x, y]`
 * of tensor-likes, a `tf.data.Dataset` of samples (`[x, y]` or `{ xs, ys }`), a
 * {@link LuzDataloader}, or any re-iterable (async) iterable of batches.
 */
export type LuzData = tf.Tensor | TupleElement[] | tf.data.Dataset<tf.TensorContainer> | LuzDataloader | AsyncIterable<Batch> | Iterable<Batch>;

/** Options of {@link asDataloader} and of `fit({ dataloaderOptions })`. */
export interface DataloaderOptions {
  /** Samples per batch. Default 32. */
  batchSize?: number;
  /** Shuffle the samples every epoch. Default `false` (`fit` trains with `true`). */
  shuffle?: boolean;
  /** Drop the last, incomplete batch. Default `false` (`fit` trains with `true`). */
  dropLast?: boolean;
  /** Seed of the shuffling generator (`fit` uses its own `ctx.rng`). Default: random. */
  seed?: number;
}

const OPTION_KEYS = ['batchSize', 'shuffle', 'dropLast', 'seed'] as const;

/** Validates dataloader options; returns them with defaults filled in. */
export function checkDataloaderOptions(where: string, options: DataloaderOptions | undefined): Required<Omit<DataloaderOptions, 'seed'>> & { seed?: number } {
  checkOptionKeys(where, options, OPTION_KEYS);
  const o = options ?? {};
  const batchSize = o.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new LuzError(`${where}: 'batchSize' must be a positive integer, got ${describe(o.batchSize)}.`);
  }
  for (const k of ['shuffle', 'dropLast'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new LuzError(`${where}: '${k}' must be a boolean, got ${describe(o[k])}.`);
  }
  return { batchSize, shuffle: o.shuffle ?? false, dropLast: o.dropLast ?? false, seed: o.seed };
}

/**
 * Iterates batches. Every `for await` starts a new epoch (reshuffled when `shuffle`). `length` is
 * the number of batches, `undefined` when unknown (progress then shows `n/unk`).
 */
export abstract class LuzDataloader implements AsyncIterable<Batch> {
  /** Number of batches per epoch, or `undefined` when unknown. */
  abstract readonly length: number | undefined;
  /** Generator used for shuffling; `fit` points it at `ctx.rng`. */
  rng: LuzRng = new LuzRng();
  abstract [Symbol.asyncIterator](): AsyncIterator<Batch>;
  /** Frees tensors the loader created itself (not the user's). */
  dispose(): void {}
}

/** Batches of in-memory tensors sharing their first dimension. */
export class TensorDataloader extends LuzDataloader {
  readonly length: number;
  /** Number of samples. */
  readonly size: number;
  constructor(
    /** The tuple elements; an element may be a list of tensors (multi-input). */
    readonly tensors: Array<tf.Tensor | tf.Tensor[]>,
    readonly options: { batchSize: number; shuffle: boolean; dropLast: boolean },
    private readonly owned: tf.Tensor[] = [],
  ) {
    super();
    const first = tensors.flat()[0];
    this.size = first ? first.shape[0] ?? 0 : 0;
    const { batchSize, dropLast } = options;
    this.length = dropLast ? Math.floor(this.size / batchSize) : Math.ceil(this.size / batchSize);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    const { batchSize } = this.options;
    const perm = this.options.shuffle ? this.rng.permutation(this.size) : null;
    for (let b = 0; b < this.length; b++) {
      const start = b * batchSize;
      const end = Math.min(start + batchSize, this.size);
      if (perm) {
        const idx = tf.tensor1d(perm.subarray(start, end), 'int32');
        const take = (t: tf.Tensor) => tf.gather(t, idx);
        yield this.tensors.map((t) => (Array.isArray(t) ? t.map(take) : take(t)));
        idx.dispose();
      } else {
        const take = (t: tf.Tensor) => t.slice(start, end - start);
        yield this.tensors.map((t) => (Array.isArray(t) ? t.map(take) : take(t)));
      }
    }
  }

  override dispose(): void {
    for (const t of this.owned) t.dispose();
    this.owned.length = 0;
  }
}

/** Batches from a `tf.data.Dataset` of samples. */
class DatasetDataloader extends LuzDataloader {
  readonly length: number | undefined;
  constructor(private readonly dataset: tf.data.Dataset<tf.TensorContainer>, private readonly options: { batchSize: number; shuffle: boolean; dropLast: boolean }) {
    super();
    const size = dataset.size;
    const n = size === null || !Number.isFinite(size) ? undefined : size;
    this.length = n === undefined ? undefined : options.dropLast ? Math.floor(n / options.batchSize) : Math.ceil(n / options.batchSize);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    let ds = this.dataset;
    if (this.options.shuffle) ds = ds.shuffle(Math.min(ds.size && Number.isFinite(ds.size) ? ds.size : 10_000, 10_000), String(this.rng.tfSeed()));
    const batched = ds.batch(this.options.batchSize, !this.options.dropLast);
    const it = await batched.iterator();
    for (;;) {
      const { value, done } = await it.next();
      if (done) return;
      yield toBatch(value);
    }
  }
}

/** A user's dataloader: any re-iterable (async) iterable of batches. */
class IterableDataloader extends LuzDataloader {
  readonly length: number | undefined;
  constructor(private readonly source: AsyncIterable<unknown> | Iterable<unknown>) {
    super();
    const len = (source as { length?: unknown }).length;
    this.length = typeof len === 'number' && Number.isFinite(len) ? len : undefined;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Batch> {
    for await (const value of this.source as AsyncIterable<unknown>) yield toBatch(value);
  }
}

function toBatch(value: unknown): Batch {
  if (Array.isArray(value)) return value;
  if (value instanceof tf.Tensor) return [value];
  if (value && typeof value === 'object' && 'xs' in value) {
    const v = value as { xs: unknown; ys?: unknown };
    return v.ys === undefined ? [v.xs] : [v.xs, v.ys];
  }
  throw new LuzError(`A batch must be an array [input, target, ...], a tensor, or { xs, ys }; got ${describe(value)}.`);
}

function isIterable(x: unknown): x is AsyncIterable<unknown> | Iterable<unknown> {
  return !!x && typeof x === 'object' && (Symbol.asyncIterator in x || Symbol.iterator in x);
}

/** True when `x` is already a dataloader (options can no longer apply to it). */
export function isDataloader(x: unknown): boolean {
  return x instanceof LuzDataloader || (isIterable(x) && !Array.isArray(x) && !(x instanceof tf.data.Dataset) && !(x instanceof tf.Tensor));
}

function toTensor(x: unknown, where: string): { tensor: tf.Tensor; owned: boolean } {
  if (x instanceof tf.Tensor) return { tensor: x, owned: false };
  if (ArrayBuffer.isView(x) || Array.isArray(x)) {
    try {
      return { tensor: tf.tensor(x as never), owned: true };
    } catch (e) {
      throw new LuzError(`${where}: could not convert to a tensor (${(e as Error).message}).`);
    }
  }
  throw new LuzError(`${where}: expected a tensor, a typed array or nested number arrays, got ${describe(x)}.`);
}

/** Converts a tuple `[x, y, ...]` to tensors, checking the first dimensions agree. */
export function tupleToTensors(tuple: unknown[], where: string): { tensors: Array<tf.Tensor | tf.Tensor[]>; owned: tf.Tensor[] } {
  if (tuple.length === 0) throw new LuzError(`${where}: the data tuple is empty; expected [x, y].`);
  const owned: tf.Tensor[] = [];
  const convert = (x: unknown, label: string) => {
    const { tensor, owned: o } = toTensor(x, `${where} ${label}`);
    if (o) owned.push(tensor);
    if (tensor.rank === 0) throw new LuzError(`${where} ${label}: expected at least one dimension (samples), got a scalar.`);
    return tensor;
  };
  const tensors = tuple.map((el, i) =>
    Array.isArray(el) && el.length > 0 && el[0] instanceof tf.Tensor ? el.map((t, j) => convert(t, `[${i}][${j}]`)) : convert(el, `[${i}]`),
  );
  const n = (tensors.flat()[0] as tf.Tensor).shape[0];
  tensors.flat().forEach((t, i) => {
    if (t.shape[0] !== n) {
      owned.forEach((o) => o.dispose());
      throw new LuzError(`${where}: all elements must have the same number of samples (first dimension); element ${i} has ${t.shape[0]}, the first has ${n}.`);
    }
  });
  return { tensors, owned };
}

/**
 * Makes a dataloader (luz's `as_dataloader`). Options apply to every kind of data (luz ignores them
 * for bare arrays; luzts does not).
 *
 * @param x - a tensor, a tuple `[x, y]`, a `tf.data.Dataset`, or an iterable of batches (returned as is).
 * @param options - `batchSize` (32), `shuffle` (false), `dropLast` (false), `seed`.
 * @example
 * ```ts
 * const dl = asDataloader([tf.randomNormal([100, 10]), tf.randomNormal([100, 1])], { batchSize: 10 });
 * dl.length; // 10
 * for await (const [x, y] of dl) { ... }
 * ```
 */
export function asDataloader(x: LuzData, options?: DataloaderOptions): LuzDataloader {
  const o = checkDataloaderOptions('asDataloader()', options);
  let dl: LuzDataloader;
  if (x instanceof LuzDataloader) return x;
  if (x instanceof tf.Tensor) dl = new TensorDataloader([x], o);
  else if (Array.isArray(x)) {
    const { tensors, owned } = tupleToTensors(x, 'data');
    dl = new TensorDataloader(tensors, o, owned);
  } else if (x instanceof tf.data.Dataset) dl = new DatasetDataloader(x, o);
  else if (isIterable(x)) dl = new IterableDataloader(x);
  else {
    throw new LuzError(`Unsupported data: got ${describe(x)}. Expected a tensor, a tuple [x, y] of tensors or arrays, a tf.data.Dataset, or an iterable of batches.`);
  }
  if (o.seed !== undefined) dl.rng = new LuzRng(o.seed);
  return dl;
}

/**
 * Splits a tuple at random into training and validation tuples (`validData` as a fraction).
 * Training keeps the original order. Returns the created tensors for disposal.
 */
export function splitTuple(data: LuzData, fraction: number, rng: LuzRng): { train: tf.Tensor[][] | Array<tf.Tensor | tf.Tensor[]>; valid: Array<tf.Tensor | tf.Tensor[]>; owned: tf.Tensor[] } {
  if (!Array.isArray(data) && !(data instanceof tf.Tensor)) {
    const kind = isDataloader(data) ? 'a dataloader' : 'a tf.data.Dataset';
    throw new LuzError(`Can't create a validation set from ${kind} ('validData' = ${fraction}). Supply the data as tensors [x, y], or pass 'validData' as data.`);
  }
  const { tensors, owned } = tupleToTensors(data instanceof tf.Tensor ? [data] : data, 'data');
  const n = (tensors.flat()[0] as tf.Tensor).shape[0];
  const nValid = Math.floor(n * fraction);
  const perm = rng.permutation(n);
  const validIdx = Array.from(perm.subarray(0, nValid));
  const isValid = new Uint8Array(n);
  validIdx.forEach((i) => (isValid[i] = 1));
  const trainIdx: number[] = [];
  for (let i = 0; i < n; i++) if (!isValid[i]) trainIdx.push(i);
  const created: tf.Tensor[] = [];
  const take = (idx: number[]) => {
    const it = tf.tensor1d(idx, 'int32');
    const g = (t: tf.Tensor) => {
      const r = tf.gather(t, it);
      created.push(r);
      return r;
    };
    const out = tensors.map((t) => (Array.isArray(t) ? t.map(g) : g(t)));
    it.dispose();
    return out;
  };
  const train = take(trainIdx);
  const valid = take(validIdx);
  owned.forEach((t) => t.dispose());
  return { train, valid, owned: created };
}
