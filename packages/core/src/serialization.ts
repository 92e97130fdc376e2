/**
 * The luzts file format: one binary container holding a JSON header and the raw data of every
 * tensor, with a magic number, a format version and a CRC32 checksum. Pure and browser-safe (no
 * file IO here: `@luzts/core/node` reads and writes files).
 *
 * Layout (all integers little-endian):
 *
 * | bytes   | content                                                      |
 * |---------|--------------------------------------------------------------|
 * | 0..8    | magic `LUZTSBIN`                                             |
 * | 8..12   | format version (u32, currently 1)                            |
 * | 12..16  | header length H in bytes (u32, a multiple of 8)             |
 * | 16..24  | data length D in bytes (u64)                                 |
 * | 24..28  | CRC32 of the H + D bytes that follow the preamble            |
 * | 28..32  | reserved (0)                                                 |
 * | 32..    | header: UTF-8 JSON padded with spaces to H bytes             |
 * | 32+H..  | data: the tensors' values, each 8-byte aligned, little-endian |
 *
 * A truncated, corrupt or foreign file is detected and reported with a clear error.
 * @module
 */
import * as tf from '@tensorflow/tfjs';
import { LuzError, describe } from './errors.js';

/** The magic bytes opening every luzts file. */
export const LUZ_MAGIC = 'LUZTSBIN';
/** The format version this build writes (and the newest it reads). */
export const LUZ_FORMAT_VERSION = 1;
const PREAMBLE = 32;

/** Data types a luzts file can hold. */
export type StoredDtype = 'float32' | 'int32' | 'bool';

/** Where a tensor's values lie in a decoded file. */
export interface StoredTensorInfo {
  dtype: StoredDtype;
  shape: number[];
  /** Byte offset within the data section. */
  offset: number;
  /** Number of bytes. */
  byteLength: number;
}

/**
 * A tensor in a decoded file, not yet turned into a `tf.Tensor`: check `shape`/`dtype` first,
 * then call {@link materialize}.
 */
export class StoredTensor {
  constructor(
    readonly dtype: StoredDtype,
    readonly shape: number[],
    /** The values (a view or copy of the file's bytes). */
    readonly values: Float32Array | Int32Array | Uint8Array,
  ) {}

  /** A new `tf.Tensor` holding these values (the caller owns it). */
  materialize(): tf.Tensor {
    return tf.tensor(this.values, this.shape, this.dtype);
  }
}

/** A decoded file: the JSON meta (tensors replaced by {@link StoredTensor}s) and the tensor count. */
export interface DecodedLuzFile {
  /** Format version the file was written with. */
  version: number;
  /** The meta object passed to `encodeLuzFile`, with tensors as {@link StoredTensor}. */
  meta: Record<string, unknown>;
}

// ---- CRC32 (IEEE, the zlib/PNG one) -------------------------------------------------------

let crcTable: Uint32Array | undefined;
function table(): Uint32Array {
  if (crcTable) return crcTable;
  crcTable = new Uint32Array(256 * 4);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crcTable[n] = c >>> 0;
  }
  // Slicing-by-4 tables.
  for (let n = 0; n < 256; n++) {
    let c = crcTable[n];
    for (let k = 1; k < 4; k++) {
      c = crcTable[c & 0xff] ^ (c >>> 8);
      crcTable[k * 256 + n] = c >>> 0;
    }
  }
  return crcTable;
}

/**
 * CRC32 (IEEE 802.3 polynomial, as zlib's `crc32`) of `bytes`, continuing from `crc` when given.
 * @example
 * ```ts
 * crc32(new TextEncoder().encode('123456789')); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  const t = table();
  let c = ~crc >>> 0;
  let i = 0;
  const n = bytes.length;
  for (; i + 4 <= n; i += 4) {
    c ^= bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    c = t[768 + (c & 0xff)] ^ t[512 + ((c >>> 8) & 0xff)] ^ t[256 + ((c >>> 16) & 0xff)] ^ t[(c >>> 24) & 0xff];
  }
  for (; i < n; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---- Packing JSON values with tensors -----------------------------------------------------

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface PendingTensor {
  dtype: StoredDtype;
  shape: number[];
  tensor: tf.Tensor;
}

/** Replaces tensors by `{ $tensor: i }` and non-JSON numbers by tagged objects; escapes `$` keys. */
function pack(value: unknown, tensors: PendingTensor[], path: string, depth: number): unknown {
  if (depth > 64) throw new LuzError(`Can't serialize '${path}': nesting deeper than 64 levels (a cycle?).`);
  if (value instanceof tf.Tensor) {
    if (value.isDisposed) throw new LuzError(`Can't serialize '${path}': the tensor is disposed.`);
    const dtype = value.dtype;
    if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
      throw new LuzError(`Can't serialize '${path}': tensors of dtype '${dtype}' are not supported (float32, int32 and bool are).`);
    }
    tensors.push({ dtype, shape: [...value.shape], tensor: value });
    return { $tensor: tensors.length - 1 };
  }
  if (value === undefined) return { $undefined: true };
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $number: String(value) };
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw new LuzError(`Can't serialize '${path}': got ${describe(value)}; only plain data (numbers, strings, arrays, objects) and tensors can be saved.`);
  }
  if (Array.isArray(value)) return Array.from(value, (v, i) => pack(v, tensors, `${path}[${i}]`, depth + 1));
  if (ArrayBuffer.isView(value)) {
    throw new LuzError(`Can't serialize '${path}': typed arrays are not supported; store a tensor or a plain array.`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as object)) out[k.startsWith('$') ? `$${k}` : k] = pack(v, tensors, `${path}.${k}`, depth + 1);
  return out;
}

function unpack(value: unknown, infos: StoredTensorInfo[], data: Uint8Array): unknown {
  if (Array.isArray(value)) return value.map((v) => unpack(v, infos, data));
  if (!value || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  if (typeof obj.$tensor === 'number') {
    const info = infos[obj.$tensor];
    if (!info) throw new LuzError(`Corrupt luzts file: reference to tensor ${obj.$tensor}, but the file holds ${infos.length}.`);
    return new StoredTensor(info.dtype, info.shape, view(info, data));
  }
  if (obj.$undefined === true) return undefined;
  if (typeof obj.$number === 'string') return Number(obj.$number);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k.startsWith('$$') ? k.slice(1) : k] = unpack(v, infos, data);
  return out;
}

const BYTES: Record<StoredDtype, number> = { float32: 4, int32: 4, bool: 1 };

function view(info: StoredTensorInfo, data: Uint8Array): Float32Array | Int32Array | Uint8Array {
  const size = info.shape.reduce((a, b) => a * b, 1);
  const per = BYTES[info.dtype];
  if (size * per !== info.byteLength || info.offset + info.byteLength > data.length || info.offset < 0) {
    throw new LuzError(`Corrupt luzts file: tensor of shape [${info.shape.join(', ')}] (${info.dtype}) does not fit its ${info.byteLength} bytes at offset ${info.offset}.`);
  }
  if (info.dtype === 'bool') return data.slice(info.offset, info.offset + info.byteLength);
  const start = data.byteOffset + info.offset;
  let buffer: ArrayBufferLike = data.buffer;
  let byteOffset = start;
  if (start % per !== 0 || !littleEndian) {
    const copy = data.slice(info.offset, info.offset + info.byteLength);
    if (!littleEndian) swapBytes(copy, per);
    buffer = copy.buffer;
    byteOffset = 0;
  }
  return info.dtype === 'float32' ? new Float32Array(buffer, byteOffset, size) : new Int32Array(buffer, byteOffset, size);
}

function swapBytes(bytes: Uint8Array, per: number): void {
  if (per === 1) return;
  for (let i = 0; i < bytes.length; i += per) bytes.subarray(i, i + per).reverse();
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/**
 * Encodes `meta` (plain data; tensors anywhere inside are stored as binary data) into one luzts
 * file. Values: numbers (NaN and infinities included), strings, booleans, null, undefined,
 * arrays, plain objects and float32/int32/bool tensors; a function is an error naming its path.
 *
 * @example
 * ```ts
 * const bytes = await encodeLuzFile({ kind: 'demo', w: tf.ones([2, 2]), note: 'hi' });
 * const { meta } = decodeLuzFile(bytes); // meta.w is a StoredTensor; meta.w.materialize() is a tensor
 * ```
 */
export async function encodeLuzFile(meta: Record<string, unknown>): Promise<Uint8Array> {
  const pending: PendingTensor[] = [];
  const packed = pack(meta, pending, 'meta', 0) as Record<string, unknown>;
  const chunks: Uint8Array[] = [];
  const infos: StoredTensorInfo[] = [];
  let offset = 0;
  for (const p of pending) {
    const values = await p.tensor.data();
    let bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    if (!littleEndian && p.dtype !== 'bool') {
      bytes = bytes.slice();
      swapBytes(bytes, BYTES[p.dtype]);
    }
    infos.push({ dtype: p.dtype, shape: p.shape, offset, byteLength: bytes.byteLength });
    chunks.push(bytes);
    offset = align8(offset + bytes.byteLength);
  }
  const dataLength = offset;
  const json = JSON.stringify({ tensors: infos, meta: packed });
  const jsonBytes = new TextEncoder().encode(json);
  const headerLength = align8(jsonBytes.length);
  const out = new Uint8Array(PREAMBLE + headerLength + dataLength);
  out.set(new TextEncoder().encode(LUZ_MAGIC), 0);
  out.set(jsonBytes, PREAMBLE);
  out.fill(0x20, PREAMBLE + jsonBytes.length, PREAMBLE + headerLength);
  const dataStart = PREAMBLE + headerLength;
  chunks.forEach((c, i) => out.set(c, dataStart + infos[i].offset));
  const dv = new DataView(out.buffer);
  dv.setUint32(8, LUZ_FORMAT_VERSION, true);
  dv.setUint32(12, headerLength, true);
  dv.setUint32(16, dataLength % 2 ** 32, true);
  dv.setUint32(20, Math.floor(dataLength / 2 ** 32), true);
  dv.setUint32(24, crc32(out.subarray(PREAMBLE)), true);
  return out;
}

/**
 * Decodes a luzts file. Throws a {@link LuzError} when the bytes are not a luzts file, were
 * written by a newer format version, are truncated, or fail the checksum.
 *
 * @param bytes - the whole file.
 * @param source - how to name the file in error messages (e.g. its path). Default `'data'`.
 * @example
 * ```ts
 * const { meta } = decodeLuzFile(bytes, 'model.luz');
 * ```
 */
export function decodeLuzFile(bytes: Uint8Array, source = 'data'): DecodedLuzFile {
  if (!(bytes instanceof Uint8Array)) throw new LuzError(`decodeLuzFile(): expected a Uint8Array, got ${describe(bytes)}.`);
  if (bytes.length === 0) throw new LuzError(`${source} is empty: not a luzts file.`);
  const magic = new TextDecoder().decode(bytes.subarray(0, Math.min(8, bytes.length)));
  if (magic !== LUZ_MAGIC.slice(0, magic.length) || bytes.length < PREAMBLE) {
    if (magic === LUZ_MAGIC.slice(0, magic.length)) throw new LuzError(`${source} is truncated: ${bytes.length} bytes, shorter than a luzts file's ${PREAMBLE}-byte preamble.`);
    throw new LuzError(`${source} is not a luzts file (it does not start with '${LUZ_MAGIC}').`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version < 1 || version > LUZ_FORMAT_VERSION) {
    throw new LuzError(`${source} uses luzts file format version ${version}; this version of @luzts/core reads versions 1 to ${LUZ_FORMAT_VERSION}. Upgrade @luzts/core.`);
  }
  const headerLength = dv.getUint32(12, true);
  const dataLength = dv.getUint32(16, true) + dv.getUint32(20, true) * 2 ** 32;
  const expected = PREAMBLE + headerLength + dataLength;
  if (bytes.length < expected) throw new LuzError(`${source} is truncated: ${bytes.length} bytes, the file says ${expected}. It was probably not written completely.`);
  if (bytes.length > expected) throw new LuzError(`${source} is corrupt: ${bytes.length} bytes, the file says ${expected}.`);
  const stored = dv.getUint32(24, true);
  const actual = crc32(bytes.subarray(PREAMBLE));
  if (stored !== actual) throw new LuzError(`${source} is corrupt: checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)}).`);
  let header: { tensors: StoredTensorInfo[]; meta: Record<string, unknown> };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLength)));
  } catch (e) {
    throw new LuzError(`${source} is corrupt: its header is not valid JSON (${(e as Error).message}).`);
  }
  if (!header || !Array.isArray(header.tensors) || !header.meta || typeof header.meta !== 'object') {
    throw new LuzError(`${source} is corrupt: its header lacks 'tensors' or 'meta'.`);
  }
  const data = bytes.subarray(PREAMBLE + headerLength);
  return { version, meta: unpack(header.meta, header.tensors, data) as Record<string, unknown> };
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** Turns every {@link StoredTensor} inside `value` into a `tf.Tensor` (kept with `tf.keep`). */
export function materializeAll(value: unknown): unknown {
  if (value instanceof StoredTensor) return tf.keep(value.materialize());
  if (Array.isArray(value)) return value.map(materializeAll);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, materializeAll(v)]));
  }
  return value;
}
