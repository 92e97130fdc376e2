import * as tf from '@tensorflow/tfjs';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { accelerator, fit, luzCallback, readOptimizerState, setup, type LuzCallback, type LuzContext } from '@luzts/core';
import { luzCallbackEarlyStopping } from '@luzts/early-stopping';
import { luzCallbackLrScheduler, lrStep } from '@luzts/lr-scheduler';
import { luzCallbackAutoResume } from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const tmp = mkdtempSync(join(tmpdir(), 'luzts-ar-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const statePath = () => join(tmp, `s${++n}`, 'state.luzckpt');

const cpu = () => accelerator({ backend: 'cpu' });
const x = tf.tensor2d(Array.from({ length: 40 }, (_, i) => [0, 1, 2].map((j) => Math.sin(i * 3 + j))));
const y = tf.tensor2d(Array.from({ length: 40 }, (_, i) => [Math.cos(i) + 0.5 * Math.sin(i * 3)]));

/** luz's get_model: a linear layer (seeded initial weights), Adam. */
const linear = () =>
  setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] }), {
    loss: (p, t) => tf.losses.meanSquaredError(t, p),
    optimizer: () => tf.train.adam(0.05),
  });

/** Two optimizers, one for the weight and one for the bias (luz's test module). */
const twoOptimizers = () =>
  setup(() => {
    const w = tf.variable(tf.tensor2d([[0.1], [-0.2], [0.3]]));
    const b = tf.variable(tf.tensor1d([0]));
    return {
      forward: (input: tf.Tensor) => tf.add(tf.matMul(input as tf.Tensor2D, w), b),
      trainableVariables: () => [w, b],
      getWeights: () => [w, b],
      setWeights: ([nw, nb]: tf.Tensor[]) => { w.assign(nw as tf.Tensor2D); b.assign(nb as tf.Tensor1D); },
      weightNames: () => ['weight', 'bias'],
      loss: (p: tf.Tensor, t: tf.Tensor) => tf.losses.meanSquaredError(t, p),
      setOptimizers: () => ({ weight: { optimizer: tf.train.adam(0.05), variables: [w] }, bias: { optimizer: tf.train.adam(0.05), variables: [b] } }),
    };
  });

const run = (module: ReturnType<typeof linear>, callbacks: LuzCallback[], epochs = 10) =>
  fit(module, [x, y], { epochs, callbacks, seed: 1, verbose: false, accelerator: cpu(), dataloaderOptions: { batchSize: 10 } });

/** luz's helper: errors once at `epoch`'s onEpochEnd (weight Infinity, after auto-resume saved), capturing the state first. */
function crashAt(epoch: number) {
  const seen: { metrics?: unknown; weights?: number[][]; opt?: number[][][] } = {};
  const cb = luzCallback({
    name: 'crash',
    weight: Infinity,
    onEpochEnd(ctx: LuzContext) {
      if (ctx.epoch !== epoch) return;
      seen.metrics = structuredClone(ctx.records.metrics);
      seen.weights = ctx.model.getWeights().map((w) => Array.from(w.dataSync()));
      seen.opt = Object.values(ctx.optimizers).map((o) => readOptimizerState(o).slots.map((s) => Array.from(s.tensor.dataSync())));
      throw new Error(`Error on epoch ${epoch}`);
    },
  });
  return { cb: cb(), seen };
}

/** luz's track_weights: model/optimizer state at each onEpochBegin. */
function tracker() {
  const begins: Array<{ epoch: number; weights: number[][]; opt: number[][][] }> = [];
  const cb = luzCallback({
    name: 'track',
    onEpochBegin(ctx: LuzContext) {
      begins.push({ epoch: ctx.epoch, weights: ctx.model.getWeights().map((w) => Array.from(w.dataSync())), opt: Object.values(ctx.optimizers).map((o) => readOptimizerState(o).slots.map((s) => Array.from(s.tensor.dataSync()))) });
    },
  });
  return { cb: cb(), begins };
}

describe('port of luz test-callbacks-resume.R', () => {
  it('crash at epoch 5 -> resume: 10 epochs of records with the first 5 unchanged; then a fresh run starts over', async () => {
    const path = statePath();
    const crash = crashAt(5);
    await expect(run(linear(), [luzCallbackAutoResume({ path }), crash.cb])).rejects.toThrow(/Error on epoch 5/);
    expect(existsSync(path)).toBe(true);

    const t = tracker();
    const resumed = await run(linear(), [luzCallbackAutoResume({ path }), t.cb]);
    expect(resumed.records.metrics.train).toHaveLength(10);
    expect(resumed.records.metrics.train.slice(0, 5)).toEqual((crash.seen.metrics as { train: unknown[] }).train);
    // Skipped epochs fire no events: the first epoch run is 6, starting from the epoch-5 weights and optimizer state.
    expect(t.begins.map((b) => b.epoch)).toEqual([6, 7, 8, 9, 10]);
    expect(t.begins[0].weights).toEqual(crash.seen.weights);
    expect(t.begins[0].opt).toEqual(crash.seen.opt);
    expect(existsSync(path)).toBe(false);

    // The state was removed: the next run starts fresh (and, same seed, is the uninterrupted run: equal to the resumed one).
    const fresh = tracker();
    const again = await run(linear(), [luzCallbackAutoResume({ path }), fresh.cb]);
    expect(fresh.begins[0].epoch).toBe(1);
    expect(again.records.metrics).toEqual(resumed.records.metrics);
    expect(again.model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(resumed.model.getWeights().map((w) => Array.from(w.dataSync())));
  });

  it('two optimizers resume with identical optimizer states', async () => {
    const path = statePath();
    const crash = crashAt(5);
    await expect(run(twoOptimizers(), [luzCallbackAutoResume({ path }), crash.cb])).rejects.toThrow(/Error on epoch 5/);
    const t = tracker();
    const resumed = await run(twoOptimizers(), [luzCallbackAutoResume({ path }), t.cb]);
    expect(t.begins[0].opt).toEqual(crash.seen.opt);
    expect(t.begins[0].opt).toHaveLength(2);
    expect(Object.keys(resumed.records.metrics.train[9].loss as object)).toEqual(['weight', 'bias']);
  });

  it("a user callback's state is restored (counter: 5 at the crash, 10 at the end of the resumed run)", async () => {
    const path = statePath();
    const counter = luzCallback({
      name: 'counter',
      initialize() { this.count = 0; },
      onEpochEnd() { this.count += 1; },
      stateDict() { return { count: this.count }; },
      loadStateDict(s: { count: number }) { this.count = s.count; },
    });
    const first = counter();
    await expect(run(linear(), [first, luzCallbackAutoResume({ path }), crashAt(5).cb])).rejects.toThrow();
    expect(first.count).toBe(5);
    const second = counter();
    await run(linear(), [second, luzCallbackAutoResume({ path })]);
    expect(second.count).toBe(10);
  });

  it('no resume after an early-stopped run (the state is removed at the end)', async () => {
    const path = statePath();
    const stopped = await run(linear(), [luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 1, minDelta: 100 }), luzCallbackAutoResume({ path })]);
    expect(stopped.records.metrics.train).toHaveLength(2);
    expect(existsSync(path)).toBe(false);
    const t = tracker();
    await run(linear(), [luzCallbackAutoResume({ path }), t.cb], 3);
    expect(t.begins.map((b) => b.epoch)).toEqual([1, 2, 3]);
  });
});

describe('luzCallbackAutoResume: beyond luz', () => {
  it("early stopping's state survives a resume", async () => {
    // min_delta 100: no epoch improves after the first. patience 3 stops at epoch 4 in one run.
    const es = () => luzCallbackEarlyStopping({ monitor: 'train_loss', patience: 3, minDelta: 100 });
    const reference = await run(linear(), [es()]);
    expect(reference.records.metrics.train).toHaveLength(4);
    const path = statePath();
    await expect(run(linear(), [es(), luzCallbackAutoResume({ path }), crashAt(2).cb])).rejects.toThrow();
    // Resumed with the counter at 1: stops at epoch 4 too (a fresh counter would run to epoch 6).
    const resumed = await run(linear(), [es(), luzCallbackAutoResume({ path })]);
    expect(resumed.records.metrics).toEqual(reference.records.metrics);
  });

  it("an lr scheduler's state survives a resume (luz's lr_step resume test)", async () => {
    // lrStep with stepSize 1, gamma 0.1: the lr falls tenfold every epoch. A resumed run must go on
    // from the saved schedule, not restart it.
    const sched = () => luzCallbackLrScheduler(lrStep({ stepSize: 1, gamma: 0.1 }));
    const reference = await run(linear(), [sched()], 8);
    const path = statePath();
    await expect(run(linear(), [sched(), luzCallbackAutoResume({ path }), crashAt(5).cb], 8)).rejects.toThrow();
    const resumed = await run(linear(), [sched(), luzCallbackAutoResume({ path })], 8);
    const lrs = (resumed.records.lr as Record<string, number[]>).opt;
    expect(lrs).toEqual((reference.records.lr as Record<string, number[]>).opt);
    lrs.forEach((lr, i) => expect(lr).toBeCloseTo(0.05 * 0.1 ** i, 12));
    expect(resumed.records.metrics).toEqual(reference.records.metrics);
  });

  it('a state that does not match the model warns (naming the file and the mismatch) and trains from scratch', async () => {
    const path = statePath();
    await expect(run(linear(), [luzCallbackAutoResume({ path }), crashAt(2).cb])).rejects.toThrow();
    const other = setup(() => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 }), tf.layers.dense({ units: 1 })] }), {
      loss: (p, t) => tf.losses.meanSquaredError(t, p),
      optimizer: () => tf.train.adam(0.05),
    });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const t = tracker();
      await run(other, [luzCallbackAutoResume({ path }), t.cb], 2);
      expect(t.begins.map((b) => b.epoch)).toEqual([1, 2]);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(new RegExp(`saved state '${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}' can't be used.*training from scratch.*weight 1 is '0\\.kernel' \\[3, 1\\].*\\[3, 2\\]`));
    } finally {
      warn.mockRestore();
    }
    // A corrupt state (not written by luzts) also warns.
    writeFileSync(path, 'garbage');
    const warn2 = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await run(linear(), [luzCallbackAutoResume({ path })], 1);
      expect(String(warn2.mock.calls[0]?.[0])).toMatch(/is not a luzts file/);
    } finally {
      warn2.mockRestore();
    }
  });

  it('validates its options and fails fast on an unwritable path', async () => {
    expect(() => luzCallbackAutoResume({ path: 'dir/' })).toThrow(/'path' must be a file path, got "dir\/"/);
    expect(() => luzCallbackAutoResume({ file: 'x' } as never)).toThrow(/unknown option 'file'/);
    const file = join(tmp, 'a-file');
    writeFileSync(file, '');
    await expect(run(linear(), [luzCallbackAutoResume({ path: join(file, 'state.luzckpt') })], 1)).rejects.toThrow(/can't write checkpoints to/);
  });

  it('no tensor growth across epochs (checkpointing every epoch)', async () => {
    const counts: number[] = [];
    const probe = luzCallback({ name: 'probe', weight: Infinity, onEpochEnd() { counts.push(tf.memory().numTensors); } });
    await run(linear(), [luzCallbackAutoResume({ path: statePath() }), probe()], 4);
    expect(counts[3]).toBe(counts[0]);
  });
});

describe('crash test: SIGKILL at random moments, restart until done', () => {
  const loader = join(pkg, 'node_modules/@luzts/core/src/test-utils/ts-loader.mjs');
  const script = join(here, 'test-utils/train-child.mjs');
  /**
   * Runs the child. With `kill`, sends SIGKILL `delayMs` after the child has finished `afterEpochs`
   * epochs of its own (0: after it prints "start"); without, lets it finish.
   */
  function runChild(state: string, out: string, backend: string, kill?: { afterEpochs: number; delayMs: number }): Promise<{ code: number | null; signal: string | null; stderr: string; from: number; trainMs: number }> {
    const p = spawn(process.execPath, ['--conditions=@luzts/source', '--import', loader, script, state, out, backend], { cwd: pkg, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let started = 0;
    let armed = false;
    p.stderr.on('data', (d) => (stderr += d));
    p.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (!started && stdout.includes('start')) started = Date.now();
      const done = (stdout.match(/^epoch \d+$/gm) ?? []).length;
      if (kill && !armed && started && done >= kill.afterEpochs) {
        armed = true;
        setTimeout(() => p.kill('SIGKILL'), kill.delayMs);
      }
    });
    return new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal, stderr, from: Number(/from (\d+)/.exec(stdout)?.[1] ?? 0), trainMs: Date.now() - started })));
  }

  it('on the cpu and wasm backends, 10 killed-and-restarted runs each equal the uninterrupted run bit for bit', async () => {
    let seed = 2024;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const lane = async (backend: string) => {
      const dir = join(tmp, `crash-${backend}`);
      const refOut = join(dir, 'reference.json');
      const ref = await runChild(join(dir, 'ref-state.luzckpt'), refOut, backend);
      expect(ref.code, ref.stderr).toBe(0);
      const reference = JSON.parse(readFileSync(refOut, 'utf8'));
      // Kills land at a random moment within the first or second epoch a child runs (mid-step,
      // mid-validation or mid-checkpoint-write), so runs make progress and later ones resume.
      const epochMs = ref.trainMs / 6;
      let kills = 0;
      let resumed = 0;
      for (let rep = 0; rep < 10; rep++) {
        const state = join(dir, `rep${rep}`, 'state.luzckpt');
        const out = join(dir, `rep${rep}`, 'out.json');
        for (let attempt = 0; ; attempt++) {
          // 1 or 2 kills per repetition (alternately), at a random moment of the training.
          // Every third repetition is first killed inside its first epoch (nothing saved yet); the
          // others after one or two saved epochs, so at least 6 restarts must resume.
          const afterEpochs = attempt === 0 && rep % 3 === 0 ? 0 : 1 + Math.floor(rand() * 2);
          const kill = attempt < 1 + (rep % 2) ? { afterEpochs, delayMs: rand() * epochMs } : undefined;
          const r = await runChild(state, out, backend, kill);
          if (r.from > 1) resumed += 1;
          if (r.code === 0) break;
          expect(r.signal, r.stderr).toBe('SIGKILL');
          kills += 1;
          expect(attempt).toBeLessThan(10);
        }
        const result = JSON.parse(readFileSync(out, 'utf8'));
        expect(result.weights).toEqual(reference.weights);
        expect(result.metrics).toEqual(reference.metrics);
        expect(existsSync(state)).toBe(false);
        expect(readdirSync(dirname(state)).filter((f) => f.endsWith('.tmp')).length).toBeLessThanOrEqual(2);
      }
      return { kills, resumed };
    };
    const [onCpu, onWasm] = await Promise.all([lane('cpu'), lane('wasm')]);
    console.log(`crash test: cpu ${onCpu.kills} kills, ${onCpu.resumed} runs resumed from a saved epoch; wasm ${onWasm.kills} kills, ${onWasm.resumed} resumed (10 repetitions each).`);
    for (const r of [onCpu, onWasm]) {
      expect(r.kills).toBeGreaterThanOrEqual(10);
      // Kills land mid-training: some restarts resume from a checkpoint rather than from scratch.
      expect(r.resumed).toBeGreaterThanOrEqual(3);
    }
  }, 150_000);
});
