import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { crc32, decodeLuzFile, encodeLuzFile, materializeAll, StoredTensor, LUZ_FORMAT_VERSION } from './serialization.js';

const enc = (s: string) => new TextEncoder().encode(s);

describe('crc32', () => {
  it('matches the standard check values (zlib/PNG CRC-32)', () => {
    expect(crc32(enc('123456789'))).toBe(0xcbf43926);
    expect(crc32(enc(''))).toBe(0);
    expect(crc32(enc('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    // Incremental == one shot, at an unaligned split.
    const all = enc('The quick brown fox jumps over the lazy dog');
    expect(crc32(all.subarray(7), crc32(all.subarray(0, 7)))).toBe(0x414fa339);
  });
});

describe('encodeLuzFile / decodeLuzFile', () => {
  it('round-trips tensors of each dtype and plain data, including NaN, infinities, undefined and $-keys', async () => {
    const meta = {
      kind: 'demo',
      f: tf.tensor2d([[1.5, -0, NaN], [Infinity, 3e-38, -7]]),
      i: tf.tensor1d([-(2 ** 31), 2 ** 31 - 1, 0], 'int32'),
      b: tf.tensor([true, false, true], [3], 'bool'),
      empty: tf.zeros([0, 4]),
      nested: { list: [1, NaN, -Infinity, undefined, null, 'x'], $tensor: 'not a tensor', $$x: 2 },
    };
    const bytes = await encodeLuzFile(meta);
    const { meta: out, version } = decodeLuzFile(bytes);
    expect(version).toBe(LUZ_FORMAT_VERSION);
    const f = out.f as StoredTensor;
    expect(f).toBeInstanceOf(StoredTensor);
    expect(f.shape).toEqual([2, 3]);
    expect(Array.from(f.values)).toEqual([1.5, -0, NaN, Infinity, Math.fround(3e-38), -7]);
    expect(Object.is(f.values[1], -0)).toBe(true);
    expect(Array.from((out.i as StoredTensor).values)).toEqual([-(2 ** 31), 2 ** 31 - 1, 0]);
    const b = (out.b as StoredTensor).materialize();
    expect(b.dtype).toBe('bool');
    expect(Array.from(b.dataSync())).toEqual([1, 0, 1]);
    expect((out.empty as StoredTensor).shape).toEqual([0, 4]);
    expect(out.nested).toEqual({ list: [1, NaN, -Infinity, undefined, null, 'x'], $tensor: 'not a tensor', $$x: 2 });
    const restored = materializeAll(out) as { f: tf.Tensor };
    expect(restored.f.shape).toEqual([2, 3]);
    tf.dispose([b, restored.f, ...Object.values(meta).filter((v): v is tf.Tensor => v instanceof tf.Tensor)]);
  });

  it('stores data little-endian, 8-byte aligned, after a 32-byte preamble (format spec)', async () => {
    const t = tf.tensor1d([1, 2], 'int32');
    const bytes = await encodeLuzFile({ a: t });
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('LUZTSBIN');
    const headerLength = dv.getUint32(12, true);
    expect(headerLength % 8).toBe(0);
    expect(dv.getUint32(16, true)).toBe(8);
    expect(bytes.length).toBe(32 + headerLength + 8);
    expect(dv.getInt32(32 + headerLength, true)).toBe(1);
    expect(dv.getInt32(32 + headerLength + 4, true)).toBe(2);
    expect(dv.getUint32(24, true)).toBe(crc32(bytes.subarray(32)));
    t.dispose();
  });

  it('detects every truncation, any flipped byte, a foreign file and a newer version, with clear errors', async () => {
    const t = tf.randomNormal([50]);
    const bytes = await encodeLuzFile({ kind: 'x', t });
    for (let n = 0; n < bytes.length; n += 7) {
      expect(() => decodeLuzFile(bytes.subarray(0, n), 'ckpt.luzckpt')).toThrow(n === 0 ? /ckpt\.luzckpt is empty/ : /ckpt\.luzckpt is truncated/);
    }
    for (const at of [40, 100, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at] ^= 0x10;
      expect(() => decodeLuzFile(bad, 'f')).toThrow(/f is corrupt: checksum mismatch/);
    }
    expect(() => decodeLuzFile(enc('{"not": "luzts"}'), 'model.json')).toThrow(/model\.json is not a luzts file/);
    const newer = bytes.slice();
    new DataView(newer.buffer).setUint32(8, LUZ_FORMAT_VERSION + 1, true);
    expect(() => decodeLuzFile(newer, 'f')).toThrow(/format version 2; this version of @luzts\/core reads versions 1 to 1/);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expect(() => decodeLuzFile(longer, 'f')).toThrow(/f is corrupt/);
    t.dispose();
  });

  it('refuses what it cannot store, naming the path', async () => {
    await expect(encodeLuzFile({ a: { b: [1, () => 2] } })).rejects.toThrow(/Can't serialize 'meta\.a\.b\[1\]': got a function/);
    const c = tf.complex([1], [2]);
    await expect(encodeLuzFile({ c })).rejects.toThrow(/dtype 'complex64' are not supported/);
    c.dispose();
  });

  it('decodes views of unaligned buffers (a file read into a shared buffer)', async () => {
    const t = tf.tensor1d([1, 2, 3]);
    const bytes = await encodeLuzFile({ t });
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    const { meta } = decodeLuzFile(shifted.subarray(1));
    expect(Array.from((meta.t as StoredTensor).values)).toEqual([1, 2, 3]);
    t.dispose();
  });
});
