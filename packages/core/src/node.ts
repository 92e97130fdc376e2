/**
 * `@luzts/core/node`: saving and loading models and checkpoints as files (Node.js only; works
 * with any backend, `@tensorflow/tfjs-node` is not needed). Writes are atomic: a crash or a kill
 * in the middle of a write leaves the previous file intact, never a partial one.
 *
 * @example
 * ```ts
 * import { luzSave, luzLoad } from '@luzts/core/node';
 * await luzSave(fitted, 'model.luz');
 * const again = await luzLoad('model.luz'); // tf.LayersModel: no module needed
 * ```
 * @packageDocumentation
 */
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LuzContext } from './context.js';
import { LuzError, describe } from './errors.js';
import type { LuzModuleFitted } from './fitted.js';
import type { LuzModuleGenerator } from './module.js';
import {
  deserializeFitted,
  encodeCheckpoint,
  restoreCheckpoint,
  restoreModelWeights,
  serializeFitted,
  serializeModelWeights,
  type LoadCheckpointOptions,
  type LuzCheckpointContents,
} from './checkpoint.js';

export type { LoadCheckpointOptions, LuzCheckpointContents } from './checkpoint.js';

/** The file extension luzts uses for checkpoints. */
export const CHECKPOINT_EXTENSION = '.luzckpt';

function checkPath(where: string, path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) throw new LuzError(`${where}: 'path' must be a non-empty string, got ${describe(path)}.`);
}

/** Whether a directory entry is a temporary file of {@link writeFileAtomic}. */
export function isTemporaryFile(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/**
 * Writes `bytes` to `path` atomically: a temporary file in the same directory is written,
 * flushed to disk (fsync) and renamed over `path`, then the directory is synced. Readers see the
 * old file or the new one, never a partial one. Parent directories are created.
 *
 * @example
 * ```ts
 * await writeFileAtomic('out/state.luzckpt', bytes);
 * ```
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  checkPath('writeFileAtomic()', path);
  const dir = dirname(resolve(path));
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'w');
    try {
      let offset = 0;
      while (offset < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Not supported on every platform (Windows); the rename itself is atomic.
  }
}

async function readBytes(where: string, path: string): Promise<Uint8Array> {
  checkPath(where, path);
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new LuzError(`${where}: the file '${path}' does not exist.`);
    throw e;
  }
}

/**
 * Checks, before training starts, that files can be written at `path`: creates the directory
 * (for `path` ending in `/`, that directory; else its parent) and writes and removes a probe
 * file. Throws a {@link LuzError} naming the path otherwise.
 *
 * @example
 * ```ts
 * await checkWritable('checkpoints/'); // at onFitBegin, not after the tenth epoch
 * ```
 */
export async function checkWritable(path: string, where = 'checkWritable()'): Promise<void> {
  checkPath(where, path);
  const dir = /[\\/]$/.test(path) ? path : dirname(path);
  const probe = join(dir, `.luzts-probe.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const fh = await open(probe, 'w');
    await fh.close();
    await unlink(probe);
  } catch (e) {
    throw new LuzError(`${where}: can't write checkpoints to '${path}': ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Saves a fitted model to a file (luz's `luz_save`): weights by name, records,
 * hyper-parameters and, for a `tf.LayersModel`, its topology.
 *
 * @example
 * ```ts
 * await luzSave(fitted, 'model.luz');
 * ```
 */
export async function luzSave(fitted: LuzModuleFitted, path: string): Promise<void> {
  checkPath('luzSave()', path);
  await writeFileAtomic(path, await serializeFitted(fitted));
}

/**
 * Loads a fitted model saved by {@link luzSave} (luz's `luz_load`). A `tf.LayersModel` is rebuilt
 * from its topology; a custom model needs its module generator (`luzLoad(path, module)`), whose
 * factory is called with the saved hyper-parameters. The generator also supplies the loss and
 * metrics for `evaluate` (functions are not saved).
 *
 * @example
 * ```ts
 * const fitted = await luzLoad('model.luz', module);
 * const preds = await predict(fitted, x);
 * ```
 */
export async function luzLoad(path: string, module?: LuzModuleGenerator): Promise<LuzModuleFitted> {
  return deserializeFitted(await readBytes('luzLoad()', path), module, `'${path}'`);
}

/**
 * Saves the weights of a fitted model (luz's `luz_save_model_weights`).
 * @example
 * ```ts
 * await luzSaveModelWeights(fitted, 'weights.luz');
 * ```
 */
export async function luzSaveModelWeights(fitted: LuzModuleFitted, path: string): Promise<void> {
  checkPath('luzSaveModelWeights()', path);
  await writeFileAtomic(path, await serializeModelWeights(fitted));
}

/**
 * Loads weights into a fitted model in place (luz's `luz_load_model_weights`); accepts a
 * weights file, a saved model or a checkpoint.
 * @example
 * ```ts
 * await luzLoadModelWeights(fitted, 'weights.luz');
 * ```
 */
export async function luzLoadModelWeights(fitted: LuzModuleFitted, path: string): Promise<void> {
  restoreModelWeights(fitted, await readBytes('luzLoadModelWeights()', path), `'${path}'`);
}

/**
 * Writes a checkpoint of a run (luz's `luz_checkpoint`): model weights, optimizer states,
 * records, callback states, epoch and RNG state. Atomic.
 *
 * @example
 * ```ts
 * const saver = luzCallback({ name: 'saver', async onEpochEnd(ctx) { await luzCheckpoint(ctx, `ckpt/epoch-${ctx.epoch}.luzckpt`); } });
 * ```
 */
export async function luzCheckpoint(ctx: LuzContext, path: string): Promise<void> {
  checkPath('luzCheckpoint()', path);
  await writeFileAtomic(path, await encodeCheckpoint(ctx));
}

/**
 * Restores a checkpoint (luz's `luz_load_checkpoint`): into a fit context (model weights,
 * optimizers, records, callback states, RNG — each optional, default all), or into a fitted
 * model (weights only). A checkpoint of another model is an error naming the first mismatching
 * weight. Returns the decoded contents (e.g. `.epoch`).
 *
 * @example
 * ```ts
 * await luzLoadCheckpoint(fitted, 'ckpt/epoch-03.luzckpt');
 * ```
 */
export async function luzLoadCheckpoint(target: LuzContext | LuzModuleFitted, path: string, options: LoadCheckpointOptions = {}): Promise<LuzCheckpointContents> {
  return restoreCheckpoint(target, await readBytes('luzLoadCheckpoint()', path), options, `checkpoint '${path}'`);
}

/**
 * The newest checkpoint file in a directory: latest modification time, then last name;
 * temporary files are ignored. `undefined` when there is none.
 *
 * @example
 * ```ts
 * const latest = await latestCheckpoint('checkpoints/');
 * ```
 */
export async function latestCheckpoint(dir: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const files: Array<{ path: string; name: string; mtime: number }> = [];
  for (const name of names) {
    if (isTemporaryFile(name)) continue;
    const path = join(dir, name);
    const s = await stat(path).catch(() => undefined);
    if (s?.isFile()) files.push({ path, name, mtime: s.mtimeMs });
  }
  files.sort((a, b) => a.mtime - b.mtime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return files.at(-1)?.path;
}

/** Removes a file if it exists. */
export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}
