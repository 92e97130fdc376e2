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
 * Reference sequences from PyTorch 1.13 (Debian python3-torch), produced by
 * `/usr/bin/python3 packages/lr-scheduler/scripts/torch_reference.py` and pasted verbatim.
 * Index 0: right after constructing the scheduler (base lr 0.1); index i: after the i-th step().
 */
const TORCH = {
  step: {
    lr: [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.00625, 0.00625, 0.00625, 0.003125, 0.003125, 0.003125, 0.0015625, 0.0015625, 0.0015625, 0.00078125, 0.00078125, 0.00078125, 0.000390625, 0.000390625],
  },
  multiplicative: {
    lr: [0.1, 0.07500000000000001, 0.05, 0.03125, 0.01875, 0.010937500000000001, 0.00625, 0.003515625, 0.001953125, 0.00107421875, 0.0005859375, 0.00031738281249999996, 0.00017089843749999996, 9.155273437499997e-05, 4.882812499999998e-05, 2.593994140624999e-05, 1.3732910156249995e-05, 7.247924804687498e-06, 3.8146972656249987e-06, 2.0027160644531242e-06, 1.0490417480468747e-06, 5.483627319335936e-07, 2.8610229492187494e-07, 1.4901161193847654e-07, 7.74860382080078e-08, 4.023313522338867e-08],
  },
  exponential: {
    lr: [0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002, 0.05904900000000002, 0.05314410000000002, 0.04782969000000002, 0.043046721000000024, 0.03874204890000002, 0.03486784401000002, 0.03138105960900001, 0.028242953648100012, 0.025418658283290013, 0.022876792454961013, 0.020589113209464913, 0.01853020188851842, 0.01667718169966658, 0.015009463529699923, 0.013508517176729932, 0.01215766545905694, 0.010941898913151246, 0.009847709021836121, 0.00886293811965251, 0.007976644307687259, 0.007178979876918534],
  },
  lambda: {
    lr: [0.1, 0.05, 0.03333333333333333, 0.025, 0.020000000000000004, 0.016666666666666666, 0.014285714285714285, 0.0125, 0.011111111111111112, 0.010000000000000002, 0.009090909090909092, 0.008333333333333333, 0.007692307692307693, 0.007142857142857143, 0.006666666666666667, 0.00625, 0.0058823529411764705, 0.005555555555555556, 0.005263157894736842, 0.005000000000000001, 0.004761904761904762, 0.004545454545454546, 0.004347826086956522, 0.004166666666666667, 0.004, 0.0038461538461538464],
  },
  cosine: {
    lr: [0.1, 0.09757729755661011, 0.0905463412215599, 0.07959536998847742, 0.0657963412215599, 0.0505, 0.03520365877844011, 0.02140463001152259, 0.010453658778440109, 0.0034227024433899004, 0.001, 0.0034227024433899004, 0.01045365877844014, 0.02140463001152267, 0.035203658778440255, 0.05050000000000022, 0.06579634122156018, 0.07959536998847777, 0.09054634122156031, 0.09757729755661054, 0.10000000000000045, 0.09757729755661054, 0.09054634122156033, 0.07959536998847778, 0.0657963412215602, 0.050500000000000225],
  },
  oneCycleCos: {
    lr: [0.0040000000000000036, 0.009498110768645929, 0.024732892156904523, 0.046214239347744504, 0.06902103457804172, 0.08792851591221286, 0.0986052072364505, 0.09979871550490317, 0.09819815024222053, 0.09504846320134738, 0.0904508879153485, 0.08455319423681344, 0.07754493889320883, 0.06965137297768985, 0.06112620219362893, 0.05224343254455968, 0.043288563555770404, 0.03454941208465151, 0.026306861650082565, 0.0188258346050237, 0.012346777314112658, 0.007077932009665416, 0.003188643714987268, 0.0008039173559862364, 4e-07, 0.0008039173559862364],
    momentum: [0.95, 0.9442728012826604, 0.9284032373365577, 0.9060268340127661, 0.8822697556478731, 0.8625744625914449, 0.8514529091286974, 0.850201285300238, 0.8518018569652073, 0.854951556604879, 0.8595491502812526, 0.8654468675506567, 0.8724551509273948, 0.8803487484173038, 0.8888739533021842, 0.8977567584824742, 0.9067116632908827, 0.9154508497187474, 0.9236934331236499, 0.9311744900929366, 0.9376535733001805, 0.9429224396800933, 0.9468117435319868, 0.9491964794299315, 0.95, 0.9491964794299315],
  },
  oneCycleLinearAdam: {
    lr: [0.001, 0.0027142857142857142, 0.004428571428571429, 0.0061428571428571435, 0.007857142857142858, 0.009571428571428571, 0.0096004, 0.0090676, 0.0085348, 0.008002, 0.0074692, 0.0069364000000000006, 0.006403600000000001, 0.0058708, 0.005338, 0.0048052, 0.0042724, 0.003739599999999999, 0.0032067999999999992, 0.002674, 0.0021411999999999994, 0.0016083999999999994, 0.0010755999999999995, 0.0005427999999999995, 9.999999999999593e-06, -0.0005227999999999986],
    momentum: [0.9, 0.8809523809523809, 0.861904761904762, 0.8428571428571429, 0.8238095238095239, 0.8047619047619048, 0.804, 0.8093333333333333, 0.8146666666666668, 0.8200000000000001, 0.8253333333333334, 0.8306666666666667, 0.8360000000000001, 0.8413333333333334, 0.8466666666666667, 0.8520000000000001, 0.8573333333333334, 0.8626666666666667, 0.868, 0.8733333333333333, 0.8786666666666667, 0.884, 0.8893333333333333, 0.8946666666666667, 0.9, 0.9053333333333333],
  },
  plateauMin: {
    lr: [0.1, 0.1, 0.1, 0.1, 0.010000000000000002, 0.010000000000000002, 0.010000000000000002, 0.010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.0010000000000000002, 0.00010000000000000003, 0.00010000000000000003, 0.00010000000000000003, 0.00010000000000000003, 0.00010000000000000003, 0.00010000000000000003, 1.0000000000000004e-05, 1.0000000000000004e-05, 1.0000000000000004e-05, 1.0000000000000004e-06, 1.0000000000000004e-06, 1.0000000000000004e-06, 1.0000000000000004e-06, 1.0000000000000005e-07],
  },
  plateauMaxAbs: {
    lr: [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02],
  },
};

/** The metric sequences fed to ReduceLROnPlateau (same as PLATEAU_METRICS / PLATEAU_MAX in the script). */
const PLATEAU_METRICS = [1.0, 0.95, 0.93, 0.92, 0.8, 0.79, 0.85, 0.78, 0.6, 0.61, 0.62, 0.59, 0.58, 0.58, 0.3, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.2, 0.21, 0.22, 0.23];
const PLATEAU_MAX = [0.1, 0.5, 0.55, 0.6, 1.2, 1.3, 1.4, 1.5, 2.5, 2.6, 2.7, 2.8, 2.9, 3.0, 3.1, 4.0, 4.1, 4.2, 4.3, 4.4, 4.5, 4.6, 4.7, 4.8, 4.9];

const STEPS = 25;

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
    const r = run(lrOneCycle({ maxLr: 0.1, totalSteps: 25 }), tf.train.momentum(0.1, 0.9));
    expectSeq(r.lr, TORCH.oneCycleCos.lr);
    expectSeq(r.momentum, TORCH.oneCycleCos.momentum);
  });

  it('lrOneCycle (linear, epochs × stepsPerEpoch) cycles lr and beta1 of Adam', () => {
    const r = run(
      lrOneCycle({ maxLr: 0.01, epochs: 5, stepsPerEpoch: 5, pctStart: 0.25, annealStrategy: 'linear', divFactor: 10, finalDivFactor: 100, baseMomentum: 0.8, maxMomentum: 0.9 }),
      tf.train.adam(0.1),
    );
    // Step 25 (= totalSteps) extrapolates past the cycle: PyTorch sets a negative lr there, we clamp at 0.
    expectSeq(r.lr, TORCH.oneCycleLinearAdam.lr.map((x) => Math.max(0, x)));
    expect(TORCH.oneCycleLinearAdam.lr[25]).toBeLessThan(0);
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
      [lrOneCycle({ maxLr: 0.1, totalSteps: 25 }), () => tf.train.momentum(0.1, 0.9), undefined],
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
