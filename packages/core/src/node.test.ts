import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint, fit, luzCallback, predict, setup, type LuzContext } from './index.js';
import {
  checkWritable,
  isTemporaryFile,
  latestCheckpoint,
  luzCheckpoint,
  luzLoad,
  luzLoadCheckpoint,
  luzLoadModelWeights,
  luzSave,
  luzSaveModelWeights,
  writeFileAtomic,
} from './node.js';
import { cpu } from './test-utils/helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const tmp = mkdtempSync(join(tmpdir(), 'luzts-node-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const base = { accelerator: cpu(), verbose: false, dataloaderOptions: { batchSize: 10 } };

function data(n = 40): [tf.Tensor, tf.Tensor] {
  const x = Array.from({ length: n }, (_, i) => [0, 1, 2].map((j) => Math.sin(i * 3 + j)));
  return [tf.tensor2d(x), tf.tensor2d(x.map((r, i) => [r[0] - 2 * r[1] + 0.3 * Math.cos(i)]))];
}

const mlp = () =>
  setup(
    () => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu' }), tf.layers.dense({ units: 1 })] }),
    { loss: (p, t) => tf.losses.meanSquaredError(t, p), optimizer: () => tf.train.adam(0.05) },
  );

/** Runs a child script with the TypeScript loader (no build needed). */
function child(script: string, args: string[]) {
  return spawn(process.execPath, ['--conditions=@luzts/source', '--import', join(here, 'test-utils/ts-loader.mjs'), join(here, 'test-utils', script), ...args], {
    cwd: pkg,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function waitExit(p: ReturnType<typeof child>): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  let stderr = '';
  p.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

describe('@luzts/core/node: files', () => {
  it('luzSave -> luzLoad in a new process reproduces predictions exactly', async () => {
    const [x, y] = data();
    const fitted = await fit(mlp(), [x, y], { ...base, epochs: 3 });
    const path = join(tmp, 'model.luz');
    await luzSave(fitted, path);
    const expected = Array.from(((await predict(fitted, x, { verbose: false, accelerator: cpu() })) as tf.Tensor).dataSync());
    const out = join(tmp, 'pred.json');
    const result = await waitExit(child('load-predict-child.mjs', [path, out]));
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.code).toBe(0);
    const got = JSON.parse(readFileSync(out, 'utf8'));
    expect(got.pred).toEqual(expected);
    expect(got.records).toEqual(JSON.parse(JSON.stringify(fitted.records.metrics)));
  });

  it('luzLoad / luzSaveModelWeights / luzLoadModelWeights / luzLoadCheckpoint(fitted) through files', async () => {
    const [x, y] = data();
    const dir = join(tmp, 'files');
    const saver = luzCallback({ name: 'saver', async onEpochEnd(ctx: LuzContext) { await luzCheckpoint(ctx, join(dir, `epoch-${ctx.epoch}.luzckpt`)); } });
    const fitted = await fit(mlp(), [x, y], { ...base, epochs: 2, callbacks: [saver()] });
    const final = fitted.model.getWeights().map((w) => Array.from(w.dataSync()));
    await luzSaveModelWeights(fitted, join(dir, 'w.luz'));
    await luzLoadCheckpoint(fitted, join(dir, 'epoch-1.luzckpt'));
    expect(fitted.model.getWeights().map((w) => Array.from(w.dataSync()))).not.toEqual(final);
    await luzLoadModelWeights(fitted, join(dir, 'w.luz'));
    expect(fitted.model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(final);
    await luzSave(fitted, join(dir, 'm.luz'));
    const loaded = await luzLoad(join(dir, 'm.luz'), mlp());
    expect(loaded.model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(final);
    await expect(luzLoad(join(dir, 'nope.luz'))).rejects.toThrow(/luzLoad\(\): the file '.*nope\.luz' does not exist/);
    await expect(luzLoad(join(dir, 'epoch-1.luzckpt'))).rejects.toThrow(/is a 'checkpoint' file; expected 'fitted'/);
    expect(readdirSync(dir).filter(isTemporaryFile)).toEqual([]);
    expect(await latestCheckpoint(dir)).toMatch(/m\.luz$/);
    expect(await latestCheckpoint(join(dir, 'missing'))).toBeUndefined();
  });

  it('checkWritable fails fast with the path in the message; writeFileAtomic creates directories', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    await expect(checkWritable(join(file, 'sub/'), 'luzCallbackModelCheckpoint')).rejects.toThrow(/luzCallbackModelCheckpoint: can't write checkpoints to '.*a-file\/sub\/'/);
    await checkWritable(join(tmp, 'new/dir/'));
    await writeFileAtomic(join(tmp, 'deep/er/f.bin'), new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(join(tmp, 'deep/er/f.bin')))).toEqual([1, 2, 3]);
  });

  it('a process killed (SIGKILL) at random moments while writing a 12 MB checkpoint never leaves one that fails to load', async () => {
    // Seeded kill delays (reproducible): a linear congruential generator.
    let s = 12345;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const kills = 20;
    let interruptedWrites = 0;
    const runOne = async (path: string) => {
      const p = child('checkpoint-writer-child.mjs', [path]);
      const exit = waitExit(p);
      let last = 0;
      await new Promise<void>((resolve, reject) => {
        let killed = false;
        p.stdout!.on('data', (d: Buffer) => {
          last = Number(String(d).trim().split('\n').at(-1));
          if (!killed) {
            killed = true;
            // Each write takes ~50-100 ms: a delay in [0, 250) ms lands anywhere in the loop.
            setTimeout(() => { p.kill('SIGKILL'); resolve(); }, rand() * 250);
          }
        });
        p.on('exit', (code) => { if (!killed) reject(new Error(`writer exited early (${code})`)); });
      });
      const { signal } = await exit;
      expect(signal).toBe('SIGKILL');
      const leftovers = readdirSync(dirname(path)).filter(isTemporaryFile);
      if (leftovers.length) interruptedWrites += 1;
      for (const f of leftovers) rmSync(join(dirname(path), f));
      const c = decodeCheckpoint(readFileSync(path), path); // throws if truncated or corrupt
      const i = (c.callbacks.find((x) => x.name === 'writer')!.state as { i: number }).i;
      // The file is the last completed write (or one more whose rename beat the print).
      expect(i === last || i === last + 1).toBe(true);
      const kernel = c.model.weights[0].values;
      expect([kernel[0], kernel[kernel.length - 1], c.model.weights[1].values[999]]).toEqual([i, i, i]);
      expect(i).toBeGreaterThan(0);
    };
    // Two lanes (two files) in parallel, each killed kills / 2 times.
    const lane = async (name: string) => {
      for (let k = 0; k < kills / 2; k++) await runOne(join(tmp, 'kill', name, 'state.luzckpt'));
    };
    await Promise.all([lane('a'), lane('b')]);
    // Evidence that kills landed inside writes (a temporary file was left behind), not only between them.
    console.log(`SIGKILL test: ${kills} kills, ${interruptedWrites} interrupted a write in progress.`);
    expect(interruptedWrites).toBeGreaterThan(0);
  }, 120_000);
});
