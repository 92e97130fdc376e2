import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { accelerator, fit, luzCallback, setup, LuzCallbackError } from '@luzts/core';
import { crc32c, histogram, luzCallbackTfevents, maskedCrc32c, TfEventsWriter } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'luzts-tfevents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts = { accelerator: accelerator({ backend: 'cpu' }), verbose: false, dataloaderOptions: { batchSize: 20 }, seed: 1 };
const data = (): [tf.Tensor, tf.Tensor] => [tf.randomNormal([100, 10], 0, 1, 'float32', 1), tf.randomNormal([100, 1], 0, 1, 'float32', 2)];

// ---------------------------------------------------------------------------------------------
// An independent decoder: bitwise CRC-32C (no table), a hand-written protobuf wire-format reader.
// It shares no code with the writer (which uses a CRC table and protobufjs).
// ---------------------------------------------------------------------------------------------
function crcBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return ~crc >>> 0;
}
function unmask(masked: number): number {
  const rot = (masked - 0xa282ead8) >>> 0;
  return ((rot >>> 17) | (rot << 15)) >>> 0;
}
function readRecords(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off < buf.length) {
    const len = Number(buf.readBigUInt64LE(off));
    if (unmask(buf.readUInt32LE(off + 8)) !== crcBitwise(buf.subarray(off, off + 8))) throw new Error(`bad length CRC at ${off}`);
    const data = buf.subarray(off + 12, off + 12 + len);
    if (unmask(buf.readUInt32LE(off + 12 + len)) !== crcBitwise(data)) throw new Error(`bad data CRC at ${off}`);
    out.push(data);
    off += 16 + len;
  }
  return out;
}
type Field = { wire: number; varint?: bigint; bytes?: Buffer };
function parseMessage(buf: Buffer): Map<number, Field[]> {
  const fields = new Map<number, Field[]>();
  let off = 0;
  const varint = () => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[off++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  };
  while (off < buf.length) {
    const key = Number(varint());
    const [no, wire] = [key >>> 3, key & 7];
    let f: Field;
    if (wire === 0) f = { wire, varint: varint() };
    else if (wire === 1) { f = { wire, bytes: buf.subarray(off, off + 8) }; off += 8; }
    else if (wire === 5) { f = { wire, bytes: buf.subarray(off, off + 4) }; off += 4; }
    else if (wire === 2) { const n = Number(varint()); f = { wire, bytes: buf.subarray(off, off + n) }; off += n; }
    else throw new Error(`unexpected wire type ${wire}`);
    fields.set(no, [...(fields.get(no) ?? []), f]);
  }
  return fields;
}
const dbl = (f?: Field[]) => (f ? f[0].bytes!.readDoubleLE(0) : 0);
const doubles = (fs: Field[] = []) =>
  fs.flatMap((f) => (f.wire === 2 ? Array.from({ length: f.bytes!.length / 8 }, (_, i) => f.bytes!.readDoubleLE(i * 8)) : [f.bytes!.readDoubleLE(0)]));
interface Decoded { wallTime: number; step: number; fileVersion?: string; values: Array<{ tag: string; simpleValue?: number; histo?: { min: number; max: number; num: number; sum: number; sumSquares: number; bucketLimit: number[]; bucket: number[] } }> }
function decodeEvent(buf: Buffer): Decoded {
  const ev = parseMessage(buf);
  const out: Decoded = { wallTime: dbl(ev.get(1)), step: Number(ev.get(2)?.[0].varint ?? 0n), values: [] };
  if (ev.get(3)) out.fileVersion = ev.get(3)![0].bytes!.toString('utf8');
  for (const s of ev.get(5) ?? []) {
    for (const v of parseMessage(s.bytes!).get(1) ?? []) {
      const value = parseMessage(v.bytes!);
      const tag = value.get(1)![0].bytes!.toString('utf8');
      if (value.get(2)) out.values.push({ tag, simpleValue: value.get(2)![0].bytes!.readFloatLE(0) });
      if (value.get(5)) {
        const h = parseMessage(value.get(5)![0].bytes!);
        out.values.push({ tag, histo: { min: dbl(h.get(1)), max: dbl(h.get(2)), num: dbl(h.get(3)), sum: dbl(h.get(4)), sumSquares: dbl(h.get(5)), bucketLimit: doubles(h.get(6)), bucket: doubles(h.get(7)) } });
      }
    }
  }
  return out;
}
function readLogdir(logdir: string): { files: string[]; events: Decoded[] } {
  const files = readdirSync(logdir).filter((f) => f.includes('tfevents'));
  return { files, events: files.flatMap((f) => readRecords(readFileSync(join(logdir, f))).map(decodeEvent)) };
}

/** luz's test model: `weight` and `bias`, one optimizer each. */
function twoOptimizerModule() {
  return setup(
    () => {
      const w = tf.variable(tf.randomNormal([10, 1], 0, 0.1, 'float32', 3));
      const b = tf.variable(tf.zeros([1]));
      return {
        forward: (x: tf.Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, w), b),
        trainableVariables: () => [w, b],
        getWeights: () => [w, b],
        setWeights: ([a, c]: tf.Tensor[]) => { w.assign(a); b.assign(c); },
        weightNames: () => ['weight', 'bias'],
        setOptimizers: () => ({ weight: { optimizer: tf.train.sgd(0.01), variables: [w] }, bias: { optimizer: tf.train.sgd(0.01), variables: [b] } }),
        dispose: () => { w.dispose(); b.dispose(); },
      };
    },
    { loss: (p, t) => tf.losses.meanSquaredError(t, p) },
  );
}

describe('CRC-32C and framing', () => {
  it('matches the standard check value and the RFC 3720 (iSCSI) test vectors', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(new Uint8Array(0))).toBe(0);
    // The mask is invertible and differs from the raw CRC.
    const bytes = new TextEncoder().encode('luzts');
    expect(unmask(maskedCrc32c(bytes))).toBe(crcBitwise(bytes));
  });
});

describe('luzCallbackTfevents', () => {
  it("writes luz's counts: 40 scalars and 20 histograms for 10 epochs, 2 optimizers, 2 weights (test-callbacks-tfevents.R)", async () => {
    const logdir = join(dir, 'count');
    let finalWeights: number[][] = [];
    const grab = luzCallback({ name: 'grab', onFitEnd(ctx) { finalWeights = ctx.model.getWeights().map((w) => Array.from(w.dataSync())); } });
    const fitted = await fit(twoOptimizerModule(), data(), { ...opts, validData: 0.2, callbacks: [luzCallbackTfevents({ logdir, histograms: true }), grab()] });
    const { files, events } = readLogdir(logdir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^events\.out\.tfevents\.\d+\..+/);
    expect(events[0].fileVersion).toBe('brain.Event:2');
    const values = events.flatMap((e) => e.values.map((v) => ({ ...v, step: e.step })));
    const scalars = values.filter((v) => v.simpleValue !== undefined);
    const histos = values.filter((v) => v.histo !== undefined);
    expect(scalars).toHaveLength(40);
    expect(histos).toHaveLength(20);
    expect(new Set(scalars.map((s) => s.tag))).toEqual(new Set(['train/loss/weight', 'train/loss/bias', 'valid/loss/weight', 'valid/loss/bias']));
    expect(new Set(histos.map((s) => s.tag))).toEqual(new Set(['weights/weight', 'weights/bias']));
    // Every scalar is the recorded metric (as float32) at step = epoch.
    for (const s of scalars) {
      const [set, , opt] = s.tag.split('/');
      const rec = fitted.records.metrics[set as 'train' | 'valid'][s.step - 1].loss as Record<string, number>;
      expect(s.simpleValue).toBe(Math.fround(rec[opt]));
    }
    expect(scalars.map((s) => s.step).sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, i) => Array(4).fill(i + 1)).flat());
    // Wall times are seconds since the epoch, non-decreasing.
    const t = events.map((e) => e.wallTime);
    expect(t.every((x, i) => i === 0 || x >= t[i - 1])).toBe(true);
    expect(Math.abs(t[0] - Date.now() / 1000)).toBeLessThan(600);
    // The last histogram of `weight` summarises the trained weights.
    const last = histos.filter((h) => h.tag === 'weights/weight' && h.step === 10)[0].histo!;
    const w = finalWeights[0];
    expect(last.num).toBe(10);
    expect(last.min).toBe(Math.min(...w));
    expect(last.max).toBe(Math.max(...w));
    expect(last.sum).toBeCloseTo(w.reduce((a, b) => a + b, 0), 10);
    expect(last.sumSquares).toBeCloseTo(w.reduce((a, b) => a + b * b, 0), 10);
  });

  it('logs plain metrics as train/<metric> and valid/<metric>, and only the listed weights', async () => {
    const logdir = join(dir, 'plain');
    const module = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [10], units: 2, name: 'd1' }), tf.layers.dense({ units: 1, name: 'd2' })] }), {
      loss: (p, t) => tf.losses.meanSquaredError(t, p),
      optimizer: () => tf.train.adam(0.01),
    });
    await fit(module, data(), { ...opts, epochs: 3, validData: 0.2, callbacks: [luzCallbackTfevents({ logdir, histograms: ['d2/kernel'] })] });
    const { events } = readLogdir(logdir);
    const tags = events.flatMap((e) => e.values.map((v) => `${v.tag}@${e.step}`));
    expect(tags).toEqual(['train/loss@1', 'weights/d2/kernel@1', 'valid/loss@1', 'train/loss@2', 'weights/d2/kernel@2', 'valid/loss@2', 'train/loss@3', 'weights/d2/kernel@3', 'valid/loss@3']);
  });

  it('fails at onFitBegin on unknown histogram names and on an unusable logdir', async () => {
    const err = await fit(twoOptimizerModule(), data(), { ...opts, epochs: 1, callbacks: [luzCallbackTfevents({ logdir: join(dir, 'x'), histograms: ['nope'] })] }).catch((e) => e);
    expect(err).toBeInstanceOf(LuzCallbackError);
    expect(err.event).toBe('onFitBegin');
    expect(err.message).toMatch(/unknown weights "nope".*weight, bias/);
    const file = join(dir, 'count', readdirSync(join(dir, 'count'))[0]);
    const err2 = await fit(twoOptimizerModule(), data(), { ...opts, epochs: 1, callbacks: [luzCallbackTfevents({ logdir: join(file, 'sub') })] }).catch((e) => e);
    expect(err2.message).toMatch(/can't write event files to 'logdir'/);
    expect(() => luzCallbackTfevents({ histograms: 'yes' } as never)).toThrow(/'histograms' must be a boolean or an array.*"yes"/);
    expect(() => luzCallbackTfevents({ logDir: 'x' } as never)).toThrow(/unknown option 'logDir'/);
  });

  it('does not leak tensors', async () => {
    const counts: number[] = [];
    const probe = luzCallback({ name: 'probe', weight: Infinity, onEpochEnd() { counts.push(tf.memory().numTensors); } });
    await fit(twoOptimizerModule(), data(), { ...opts, epochs: 3, validData: 0.2, callbacks: [luzCallbackTfevents({ logdir: join(dir, 'mem'), histograms: true }), probe()] });
    expect(counts[2]).toBe(counts[0]);
  });
});

describe('TfEventsWriter and histograms', () => {
  it('round-trips scalars (including 0) and a histogram with TensorFlow-style buckets', () => {
    const logdir = join(dir, 'writer');
    const values = [-2.5, -0.001, 0, 0, 1, 1, 1.05, 3, 1e6];
    new TfEventsWriter(logdir).scalar('a/zero', 0, 7).scalar('a/neg', -1.5, 8).histogram('h', values, 9).flush();
    const { events } = readLogdir(logdir);
    expect(events).toHaveLength(4);
    expect(events[1]).toMatchObject({ step: 7, values: [{ tag: 'a/zero', simpleValue: 0 }] });
    expect(events[2]).toMatchObject({ step: 8, values: [{ tag: 'a/neg', simpleValue: -1.5 }] });
    const h = events[3].values[0].histo!;
    expect(h).toMatchObject({ min: -2.5, max: 1e6, num: 9, sum: values.reduce((a, b) => a + b, 0), sumSquares: values.reduce((a, b) => a + b * b, 0) });
    // Bucket i counts values in [limit[i-1], limit[i]) (TensorFlow's upper_bound rule), checked by a linear scan.
    h.bucketLimit.forEach((limit, i) => {
      const lo = i === 0 ? -Infinity : h.bucketLimit[i - 1];
      expect(h.bucket[i]).toBe(values.filter((v) => v >= lo && v < limit).length);
    });
    // Non-empty buckets' limits are TensorFlow's ±1e-12·1.1^k (or 0); empty runs are collapsed.
    h.bucketLimit.forEach((limit, i) => {
      if (h.bucket[i] === 0 || limit === 0) return;
      const k = Math.log(Math.abs(limit) / 1e-12) / Math.log(1.1);
      expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-6);
    });
    expect(h.bucket.every((c, i) => c > 0 || i === 0 || h.bucket[i - 1] > 0)).toBe(true);
    expect(h.bucketLimit.at(-1)).toBe(Number.MAX_VALUE);
    // Closed form: 1 lies in [1e-12·1.1^289, 1e-12·1.1^290) = [0.91725, 1.00897), 1.05 in the next bucket, up to 1e-12·1.1^291 = 1.10987.
    const h2 = histogram([1, 1.05]);
    const limits = h2.bucketLimit.filter((_, i) => h2.bucket[i] > 0);
    expect(limits).toHaveLength(2);
    expect(limits[0]).toBeCloseTo(1e-12 * 1.1 ** 290, 9);
    expect(limits[1]).toBeCloseTo(1e-12 * 1.1 ** 291, 9);
  });
});
