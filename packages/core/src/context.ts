/**
 * The context `ctx` shared by the loop, callbacks, metrics and the model.
 * @module
 */
import type * as tf from '@tensorflow/tfjs';
import { LuzError, describe } from './errors.js';
import type { CallbackDispatcher, LuzCallback } from './callback.js';
import type { LuzMetric, LuzMetricSet, MetricValue } from './metric.js';
import { formatMetricValue } from './metric.js';
import type { Hparams, LossFn, LuzModule } from './module.js';
import type { Batch, LuzDataloader } from './data.js';
import type { LuzRng } from './rng.js';
import type { Accelerator } from './accelerator.js';

/** A phase's record set: `'train'` or `'valid'`. */
export type MetricSet = 'train' | 'valid';

/**
 * Everything logged during a run. `metrics[set][epoch - 1][name]` holds metric values;
 * `profile.{fit, epoch, train, valid}` timings in seconds; callbacks may log their own entries
 * with `ctx.log(what, set, value)`.
 */
export interface LuzRecords {
  metrics: { train: Array<Record<string, MetricValue>>; valid: Array<Record<string, MetricValue>> };
  profile?: Record<string, number[]>;
  [what: string]: Record<string, unknown[]> | undefined;
}

/** Options of {@link LuzContext.log}. */
export interface LogOptions {
  /** 1-based position; default: after the last entry. */
  index?: number;
  /** When an entry exists at `index`, merge into it (objects) or append (values). Default true. */
  append?: boolean;
}

/** What kind of run the context drives. */
export type ContextMode = 'fit' | 'evaluate' | 'predict';

/**
 * The context of a run (luz's `ctx`). Sealed: writing a field that does not exist is an error;
 * use `ctx.buffers` as scratch space. Tensors the loop places on it (`batch`, `input`, `target`,
 * `pred`, `loss`, `lossGrad`, `grads`) are owned by the loop and freed at the end of each batch:
 * keep a tensor past the batch with `tf.keep` (and dispose it yourself) or read its values.
 *
 * @example
 * ```ts
 * const cb = luzCallback({
 *   name: 'peek',
 *   onTrainBatchEnd(ctx) { if (ctx.iter === 1) console.log(ctx.epoch, ctx.pred.shape); },
 *   onEpochEnd(ctx) { console.log(ctx.getMetric('loss', 'train')); },
 * });
 * ```
 */
export class LuzContext {
  /** What this context drives. */
  mode: ContextMode;
  /** Whether progress and messages are printed. */
  verbose = false;
  /** The backend choice; `device` derives from it. */
  accelerator: Accelerator | undefined = undefined;
  /** The callbacks, sorted by weight. */
  callbacks: readonly LuzCallback[] = [];
  /** The model being trained (adapted to {@link LuzModule}). */
  model: LuzModule = undefined as unknown as LuzModule;
  /** Named optimizers (`opt` when there is one). */
  optimizers: Record<string, tf.Optimizer> = {};
  /** The variables each optimizer updates. */
  optimizerVariables: Record<string, tf.Variable[]> = {};
  /** The loss the default step uses; callbacks may replace it (mixup's `autoLoss`). */
  lossFn: LossFn = undefined as unknown as LossFn;
  /** Applies the gradients `ctx.grads` with an optimizer; loss-scaling callbacks replace it. */
  stepOpt: (opt: tf.Optimizer, ctx: LuzContext) => void = (opt, ctx) => opt.applyGradients(ctx.grads as tf.NamedTensorMap);
  /** Hyper-parameters of the module factory. */
  hparams: Hparams = {};
  /** Hyper-parameters of the optimizers. */
  optHparams: Hparams = {};
  /** The loader being iterated (training, validation or prediction data). */
  data: LuzDataloader | undefined = undefined;
  /** The training loader. */
  trainData: LuzDataloader | undefined = undefined;
  /** The validation loader, if any. */
  validData: LuzDataloader | undefined = undefined;
  /** Least number of epochs before early stopping may stop. */
  minEpochs = 0;
  /** Number of epochs to train. */
  maxEpochs = 10;
  /** Current epoch, 1-based. */
  epoch = 0;
  /**
   * The first epoch the loop runs (default 1). A resuming callback sets it in `onFitBegin` to skip
   * completed epochs entirely: no events fire for them.
   */
  startEpoch = 1;
  /** Current batch, 1-based within the phase (0 before the first batch). */
  iter = 0;
  /** True while training, false during validation, evaluation and prediction. */
  training = false;
  /** The current batch `[input, target, ...]`. */
  batch: Batch = [];
  /** Last prediction (in `predict`: the list of per-batch predictions). */
  pred: any = undefined;
  /** Loss per optimizer name for the current batch (no gradient tape). */
  loss: Record<string, tf.Tensor> = {};
  /** The loss gradients are taken of; loss-scaling callbacks replace it in `onTrainBatchBeforeBackward`. */
  lossGrad: tf.Scalar | undefined = undefined;
  /** Gradients by variable name, between backward and the optimizer step. Callbacks may replace entries. */
  grads: tf.NamedTensorMap | undefined = undefined;
  /** Metric instances of the current epoch and phase. */
  metrics: { train: LuzMetric[]; valid: LuzMetric[] } = { train: [], valid: [] };
  /** Scratch space for callbacks. */
  buffers: Record<string, unknown> = {};
  /** Seeded random generator of the run (`fit({ seed })`): shuffling, splits, mixup draws. */
  rng: LuzRng;
  /** An abort signal that interrupts the run after the current batch. */
  signal: AbortSignal | undefined = undefined;
  /** Set by the interrupt callback: the loop interrupts at the end of the current batch. */
  interruptRequested = false;
  /** The metrics of each phase (from `setup`, or `evaluate({ metrics })`). */
  metricSet: LuzMetricSet = { kind: 'luz_metric_set', train: [], valid: [] };

  private readonly cleanups: Array<() => void> = [];

  private _records: LuzRecords = { metrics: { train: [], valid: [] } };
  private _opt: tf.Optimizer | undefined = undefined;
  private _optName: string | undefined = undefined;
  /** @internal */
  _dispatcher: CallbackDispatcher | undefined = undefined;

  constructor(mode: ContextMode, rng: LuzRng) {
    this.mode = mode;
    this.rng = rng;
    // A sealed view: assigning a field that does not exist is an error naming the field.
    return new Proxy(this, {
      set(target, key, value) {
        if (!(key in target)) {
          throw new LuzError(`ctx has no field '${String(key)}'. The context is sealed; use ctx.buffers.${String(key)} as scratch space.`);
        }
        return Reflect.set(target, key, value);
      },
      defineProperty(_target, key) {
        throw new LuzError(`ctx has no field '${String(key)}'. The context is sealed; use ctx.buffers as scratch space.`);
      },
      deleteProperty(_target, key) {
        throw new LuzError(`Can't delete ctx.${String(key)}: the context is sealed.`);
      },
    });
  }

  /** The tfjs backend in use (`'wasm'`, `'cpu'`, `'tensorflow'`, ...). Read-only. */
  get device(): string {
    if (!this.accelerator) throw new LuzError('ctx.device: no accelerator is set.');
    return this.accelerator.backend;
  }
  set device(value: string) {
    throw new LuzError(`Not allowed to modify the device manually (got ${describe(value)}). Choose the backend with fit({ accelerator: accelerator({ backend }) }).`);
  }

  /** `batch[0]`; assigning replaces it. */
  get input(): any {
    return this.batch[0];
  }
  set input(value: any) {
    this.batch[0] = value;
  }

  /** `batch[1]`; assigning replaces it (mixup stores its mixed target here). */
  get target(): any {
    return this.batch[1];
  }
  set target(value: any) {
    this.batch[1] = value;
  }

  /** The optimizer of the current step; with a single optimizer, that one. */
  get opt(): tf.Optimizer {
    if (this._opt) return this._opt;
    const names = Object.keys(this.optimizers);
    if (names.length === 1) return this.optimizers[names[0]];
    throw new LuzError('ctx.opt is not set: it is only defined during a training step when the model has several optimizers.');
  }
  set opt(value: tf.Optimizer) {
    this._opt = value;
  }

  /** The name of the current optimizer; with a single optimizer, its name (`'opt'`). */
  get optName(): string {
    if (this._optName !== undefined) return this._optName;
    const names = Object.keys(this.optimizers);
    if (names.length === 1) return names[0];
    throw new LuzError('ctx.optName is not set: it is only defined during a step when the model has several optimizers.');
  }
  set optName(value: string) {
    this._optName = value;
  }

  /** Everything logged so far. Read-only: use `log` and `logMetric`. */
  get records(): LuzRecords {
    return this._records;
  }
  set records(_value: LuzRecords) {
    throw new LuzError('Not allowed to modify records manually. Use ctx.log() or ctx.logMetric().');
  }

  /** Replaces all records (used when restoring checkpoints). Warns when training records would be lost. */
  unsafeSetRecords(records: LuzRecords): void {
    if (this._records.metrics.train.length > 0) console.warn('luzts: setting records overrides the records of the current run.');
    this._records = structuredClone(records);
  }

  /**
   * Logs `value` under `records[what][set][index - 1]`.
   * @example
   * ```ts
   * ctx.log('lr', 'opt', 0.01); // records.lr.opt = [0.01]
   * ```
   */
  log(what: string, set: string, value: unknown, options: LogOptions = {}): this {
    const { append = true } = options;
    const rec = this._records as Record<string, Record<string, unknown[]>>;
    const group = (rec[what] ??= {});
    const list = (group[set] ??= []);
    const index = options.index ?? list.length + 1;
    if (!Number.isInteger(index) || index < 1) throw new LuzError(`ctx.log(): 'index' must be a positive integer, got ${describe(index)}.`);
    const current = list[index - 1];
    if (append && current !== undefined) {
      const isObj = (x: unknown) => !!x && typeof x === 'object' && !Array.isArray(x);
      list[index - 1] = isObj(current) && isObj(value) ? { ...(current as object), ...(value as object) } : ([] as unknown[]).concat(current, value);
    } else {
      while (list.length < index - 1) list.push(undefined);
      list[index - 1] = value;
    }
    return this;
  }

  /** Logs a metric for the current phase and epoch: `records.metrics[set][epoch - 1][name]`. */
  logMetric(name: string, value: MetricValue): this {
    return this.log('metrics', this.training ? 'train' : 'valid', { [name]: value }, { index: this.epoch });
  }

  /** An entry of `records[what][set]`; `index` defaults to the last. `undefined` when absent. */
  getLog(what: string, set: string, index?: number): unknown {
    const list = (this._records as Record<string, Record<string, unknown[]>>)[what]?.[set];
    if (!list || list.length === 0) return undefined;
    return list[(index ?? list.length) - 1];
  }

  /** Metrics of a set for `epoch` (default: the last logged). `undefined` when absent. */
  getMetrics(set: MetricSet, epoch?: number): Record<string, MetricValue> | undefined {
    return this.getLog('metrics', set, epoch) as Record<string, MetricValue> | undefined;
  }

  /** One metric of a set for `epoch` (default: last). */
  getMetric(name: string, set: MetricSet, epoch?: number): MetricValue | undefined {
    return this.getMetrics(set, epoch)?.[name];
  }

  /** `"Loss: 1.2671 - Acc: 0.9163"` for a set and epoch (default: last). */
  getFormattedMetrics(set: MetricSet, epoch?: number): string {
    const m = this.getMetrics(set, epoch) ?? {};
    return Object.entries(m).map(([k, v]) => `${displayName(k, this.metrics[set])}: ${formatMetricValue(v)}`).join(' - ');
  }

  /** Fires an event on every callback (any name; callbacks may define their own events). */
  async callCallbacks(event: string): Promise<void> {
    if (!this._dispatcher) throw new LuzError('ctx.callCallbacks(): the context has no callbacks yet.');
    await this._dispatcher.call(event, this);
  }

  /** Fires a synchronous event (inside the gradient function). @internal */
  callCallbacksSync(event: string): void {
    this._dispatcher?.callSync(event, this);
  }

  /** Registers `fn` to run when the run ends, however it ends (errors included). */
  addCleanup(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** Runs and clears the cleanups. @internal */
  runCleanups(): void {
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        fn();
      } catch (e) {
        console.warn('luzts: a cleanup failed:', e);
      }
    }
  }

  /** Resets the per-step optimizer fields. @internal */
  clearStep(): void {
    this._opt = undefined;
    this._optName = undefined;
  }
}

/** The display abbreviation of a record name (`acc` → `Acc`), from the phase's metric instances. */
export function displayName(name: string, metrics: readonly LuzMetric[]): string {
  const m = metrics.find((x) => x.abbrev.toLowerCase() === name);
  return m ? m.abbrev : name;
}
