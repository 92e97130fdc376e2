import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LuzError } from '@luzts/core';
import {
  getMomentum,
  lrCosineAnnealing,
  lrExponential,
  lrLambda,
  lrMultiplicative,
  lrOneCycle,
  lrReduceOnPlateau,
  lrStep,
  type LrSchedule,
} from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Reference sequences from PyTorch 1.13 (Debian python3-torch): the committed fixture written by
 * `/usr/bin/python3 packages/lr-scheduler/scripts/torch_reference.py`. Index 0: right after
 * constructing the scheduler (base lr 0.1); index i: after the i-th step(), for 30 steps.
 */
const FIXTURE = JSON.parse(readFileSync(new URL('./fixtures/torch-schedules.json', import.meta.url), 'utf8')) as {
  steps: number;
  plateauMetrics: number[];
  plateauMax: number[];
  reference: Record<string, { lr: number[]; momentum?: number[] }>;
};
const TORCH = FIXTURE.reference as Record<string, { lr: number[]; momentum: number[] }>;
/** The metric sequences fed to ReduceLROnPlateau (PLATEAU_METRICS / PLATEAU_MAX in the script). */
const PLATEAU_METRICS = FIXTURE.plateauMetrics;
const PLATEAU_MAX = FIXTURE.plateauMax;

const STEPS = FIXTURE.steps;

/** Runs a schedule on a tfjs optimizer (lr 0.1) and reads the lr (and momentum) as the script does. */
function run(schedule: LrSchedule, opt: tf.Optimizer, metrics?: number[]) {
  const scheduler = schedule(opt);
  const lr = [scheduler.getLastLr()];
  const momentum = [getMomentum(opt)];
  for (let i = 0; i < STEPS; i++) {
    scheduler.step(metrics?.[i]);
    lr.push(scheduler.getLastLr());
    momentum.push(getMomentum(opt));
  }
  opt.dispose();
  return { lr, momentum };
}

function expectSeq(actual: Array<number | undefined>, expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i];
    expect(Math.abs((a as number) - e), `index ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(1e-12 + 1e-9 * Math.abs(e));
  });
}

describe('schedules match PyTorch', () => {
  it('lrStep (StepLR, stepSize 3, gamma 0.5)', () => {
    expectSeq(run(lrStep({ stepSize: 3, gamma: 0.5 }), tf.train.sgd(0.1)).lr, TORCH.step.lr);
  });

  it('lrMultiplicative (MultiplicativeLR, factor 0.5 + 0.5/(epoch+1))', () => {
    expectSeq(run(lrMultiplicative({ lrLambda: (e) => 0.5 + 0.5 / (e + 1) }), tf.train.sgd(0.1)).lr, TORCH.multiplicative.lr);
  });

  it('lrExponential (ExponentialLR, gamma 0.9)', () => {
    expectSeq(run(lrExponential({ gamma: 0.9 }), tf.train.sgd(0.1)).lr, TORCH.exponential.lr);
  });

  it('lrLambda (LambdaLR, 1/(1+epoch))', () => {
    expectSeq(run(lrLambda({ lrLambda: (e) => 1 / (1 + e) }), tf.train.sgd(0.1)).lr, TORCH.lambda.lr);
  });

  it('lrCosineAnnealing (CosineAnnealingLR, tMax 10, etaMin 0.001), past tMax', () => {
    expectSeq(run(lrCosineAnnealing({ tMax: 10, etaMin: 0.001 }), tf.train.sgd(0.1)).lr, TORCH.cosine.lr);
  });

  it('lrOneCycle (cos) cycles lr and momentum of a Momentum optimizer', () => {
    const r = run(lrOneCycle({ maxLr: 0.1, totalSteps: 30 }), tf.train.momentum(0.1, 0.9));
    expectSeq(r.lr, TORCH.oneCycleCos.lr);
    expectSeq(r.momentum, TORCH.oneCycleCos.momentum);
  });

  it('lrOneCycle (linear, epochs × stepsPerEpoch) cycles lr and beta1 of Adam', () => {
    const r = run(
      lrOneCycle({ maxLr: 0.01, epochs: 6, stepsPerEpoch: 5, pctStart: 0.25, annealStrategy: 'linear', divFactor: 10, finalDivFactor: 100, baseMomentum: 0.8, maxMomentum: 0.9 }),
      tf.train.adam(0.1),
    );
    // Step 30 (= totalSteps) extrapolates past the cycle: PyTorch sets a negative lr there, we clamp at 0.
    expectSeq(r.lr, TORCH.oneCycleLinearAdam.lr.map((x) => Math.max(0, x)));
    expect(TORCH.oneCycleLinearAdam.lr[30]).toBeLessThan(0);
    expect(FIXTURE.steps).toBe(30);
    expectSeq(r.momentum, TORCH.oneCycleLinearAdam.momentum);
  });

  it('lrOneCycle errors when stepped past totalSteps, and leaves optimizers without momentum alone', () => {
    const opt = tf.train.adagrad(0.1);
    const scheduler = lrOneCycle({ maxLr: 0.1, totalSteps: 2 })(opt);
    scheduler.step();
    scheduler.step();
    expect(() => scheduler.step()).toThrow(/tried to step 3 times. The specified number of total steps is 2/);
    expect(() => lrOneCycle({ maxLr: 0.1 })).toThrow(/either 'totalSteps' or both 'epochs' and 'stepsPerEpoch'/);
  });

  it('lrReduceOnPlateau (min, rel, patience 2, threshold 0.1)', () => {
    expectSeq(run(lrReduceOnPlateau({ patience: 2, threshold: 0.1 }), tf.train.sgd(0.1), PLATEAU_METRICS).lr, TORCH.plateauMin.lr);
  });

  it('lrReduceOnPlateau (max, abs, factor 0.5, patience 1, cooldown 2, minLr 0.02)', () => {
    const schedule = lrReduceOnPlateau({ mode: 'max', factor: 0.5, patience: 1, threshold: 0.5, thresholdMode: 'abs', cooldown: 2, minLr: 0.02 });
    expectSeq(run(schedule, tf.train.sgd(0.1), PLATEAU_MAX).lr, TORCH.plateauMaxAbs.lr);
  });
});

describe('scheduler state', () => {
  it('stateDict / loadStateDict resume a schedule and restore the optimizer lr and momentum', () => {
    const schedules: Array<[LrSchedule, () => tf.Optimizer, number[] | undefined]> = [
      [lrStep({ stepSize: 3, gamma: 0.5 }), () => tf.train.sgd(0.1), undefined],
      [lrCosineAnnealing({ tMax: 10, etaMin: 0.001 }), () => tf.train.sgd(0.1), undefined],
      [lrOneCycle({ maxLr: 0.1, totalSteps: 30 }), () => tf.train.momentum(0.1, 0.9), undefined],
      [lrReduceOnPlateau({ patience: 2, threshold: 0.1 }), () => tf.train.adam(0.1), PLATEAU_METRICS],
    ];
    for (const [schedule, make, metrics] of schedules) {
      const full = run(schedule, make(), metrics);
      // Run 10 steps, save, restore into a fresh optimizer + scheduler, run the rest.
      const a = make();
      const first = schedule(a);
      for (let i = 0; i < 10; i++) first.step(metrics?.[i]);
      const state = JSON.parse(JSON.stringify(first.stateDict()));
      const b = make();
      const second = schedule(b);
      second.loadStateDict(state);
      expect(getMomentum(b)).toBe(getMomentum(a));
      const lrs = [second.getLastLr()];
      for (let i = 10; i < STEPS; i++) {
        second.step(metrics?.[i]);
        lrs.push(second.getLastLr());
      }
      expectSeq(lrs, full.lr.slice(10));
      a.dispose();
      b.dispose();
    }
  });

  it('loadStateDict refuses the state of another schedule', () => {
    const opt = tf.train.sgd(0.1);
    const state = lrStep({ stepSize: 1 })(opt).stateDict();
    expect(() => lrExponential({ gamma: 0.5 })(opt).loadStateDict(state)).toThrow(/expected a state of schedule 'lr_exponential'/);
    opt.dispose();
  });
});

describe('schedule arguments', () => {
  it('errors name the argument, the value and the expectation', () => {
    expect(() => lrStep({ stepSize: 0 })).toThrow(LuzError);
    expect(() => lrStep({ stepSize: 0 })).toThrow(/'stepSize' must be an integer >= 1, got 0/);
    expect(() => lrStep({ stepSize: 2, gama: 0.1 } as never)).toThrow(/unknown option 'gama'/);
    expect(() => lrMultiplicative({ lrLambda: 0.5 as never })).toThrow(/'lrLambda' must be a function, got 0.5/);
    expect(() => lrReduceOnPlateau({ factor: 1 })).toThrow(/'factor' must be a number >= 0 < 1, got 1/);
    expect(() => lrReduceOnPlateau({ mode: 'up' as never })).toThrow(/'mode' must be one of 'min', 'max', got "up"/);
    expect(() => lrReduceOnPlateau({ monitor: 'loss' })).toThrow(/'monitor' must be '<set>_<metric>'/);
    expect(() => lrOneCycle({ maxLr: 0.1, totalSteps: 10, annealStrategy: 'exp' as never })).toThrow(/'annealStrategy'/);
    const opt = tf.train.sgd(0.1);
    const s = lrMultiplicative({ lrLambda: () => NaN })(opt);
    expect(() => s.step()).toThrow(/lrLambda\(1\)' must be a number/);
    expect(() => lrReduceOnPlateau()(opt).step()).toThrow(/needs the value of 'valid_loss'/);
    opt.dispose();
  });
});
