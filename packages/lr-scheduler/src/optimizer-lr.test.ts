import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LuzError } from '@luzts/core';
import { getLearningRate, getMomentum, momentumKind, setLearningRate, setMomentum } from './index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Vec = number[];
interface Step {
  lr: number;
  momentum?: number;
  grad: Vec;
}

const W0: Vec = [1, -2];
const STEPS: Step[] = [
  { lr: 0.05, grad: [0.5, -1.5] },
  { lr: 0.02, momentum: 0.6, grad: [2, 0.25] },
  { lr: 0.3, grad: [-1, 0.75] },
];

/** Runs the steps on a real tfjs optimizer, changing lr (and momentum) before each step. */
function runTfjs(opt: tf.Optimizer, steps: Step[]): Vec {
  const w = tf.variable(tf.tensor1d(W0));
  for (const s of steps) {
    setLearningRate(opt, s.lr);
    if (s.momentum !== undefined) setMomentum(opt, s.momentum);
    expect(getLearningRate(opt)).toBe(s.lr);
    tf.tidy(() => opt.applyGradients({ [w.name]: tf.tensor1d(s.grad) }));
  }
  const out = Array.from(w.dataSync());
  w.dispose();
  opt.dispose();
  return out;
}

// Hand-written float64 references of each update rule (tfjs-core 4.22 formulas; PyTorch's for the
// bias correction with a changed beta1).
const zip = (a: Vec, b: Vec, f: (x: number, y: number) => number) => a.map((x, i) => f(x, b[i]));
const zeros = () => W0.map(() => 0);

function refSgd(steps: Step[]): Vec {
  let w = [...W0];
  for (const s of steps) w = zip(w, s.grad, (x, g) => x - s.lr * g);
  return w;
}
function refMomentum(m0: number, steps: Step[]): Vec {
  let w = [...W0];
  let a = zeros();
  let m = m0;
  for (const s of steps) {
    m = s.momentum ?? m;
    a = zip(a, s.grad, (x, g) => m * x + g);
    w = zip(w, a, (x, y) => x - s.lr * y);
  }
  return w;
}
function refAdam(b1_0: number, b2: number, eps: number, steps: Step[]): Vec {
  let w = [...W0];
  let m = zeros();
  let v = zeros();
  let b1 = b1_0;
  steps.forEach((s, i) => {
    const t = i + 1;
    b1 = s.momentum ?? b1;
    m = zip(m, s.grad, (x, g) => b1 * x + (1 - b1) * g);
    v = zip(v, s.grad, (x, g) => b2 * x + (1 - b2) * g * g);
    w = w.map((x, j) => x - (s.lr * (m[j] / (1 - b1 ** t))) / (Math.sqrt(v[j] / (1 - b2 ** t)) + eps));
  });
  return w;
}
function refAdamax(b1_0: number, b2: number, eps: number, steps: Step[]): Vec {
  let w = [...W0];
  let m = zeros();
  let u = zeros();
  let b1 = b1_0;
  steps.forEach((s, i) => {
    const t = i + 1;
    b1 = s.momentum ?? b1;
    m = zip(m, s.grad, (x, g) => b1 * x + (1 - b1) * g);
    u = zip(u, s.grad, (x, g) => Math.max(b2 * x, Math.abs(g)));
    w = w.map((x, j) => x - (s.lr / (1 - b1 ** t)) * (m[j] / (u[j] + eps)));
  });
  return w;
}
function refRmsprop(decay: number, mom0: number, eps: number, steps: Step[]): Vec {
  let w = [...W0];
  let ms = zeros();
  let mo = zeros();
  let mom = mom0;
  for (const s of steps) {
    mom = s.momentum ?? mom;
    ms = zip(ms, s.grad, (x, g) => decay * x + (1 - decay) * g * g);
    mo = mo.map((x, j) => mom * x + (s.lr * s.grad[j]) / Math.sqrt(ms[j] + eps));
    w = zip(w, mo, (x, y) => x - y);
  }
  return w;
}
function refAdagrad(init: number, eps: number, steps: Step[]): Vec {
  let w = [...W0];
  let acc = W0.map(() => init);
  for (const s of steps) {
    acc = zip(acc, s.grad, (x, g) => x + g * g);
    w = w.map((x, j) => x - (s.lr * s.grad[j]) / Math.sqrt(acc[j] + eps));
  }
  return w;
}
function refAdadelta(rho: number, eps: number, steps: Step[]): Vec {
  let w = [...W0];
  let ag = zeros();
  let au = zeros();
  for (const s of steps) {
    // tfjs computes the update with the previous accumulated gradient.
    const upd = s.grad.map((g, j) => (Math.sqrt(au[j] + eps) / Math.sqrt(ag[j] + eps)) * g);
    ag = zip(ag, s.grad, (x, g) => rho * x + (1 - rho) * g * g);
    au = zip(au, upd, (x, u) => rho * x + (1 - rho) * u * u);
    w = zip(w, upd, (x, u) => x - s.lr * u);
  }
  return w;
}

const noMomentum = STEPS.map(({ momentum: _m, ...s }) => s);

function expectClose(actual: Vec, expected: Vec): void {
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i], 5));
}

describe('setLearningRate / getLearningRate', () => {
  it('SGD uses the new learning rate at each step', () => {
    const opt = tf.train.sgd(0.1);
    expect(getLearningRate(opt)).toBe(0.1);
    expectClose(runTfjs(opt, noMomentum), refSgd(noMomentum));
  });

  it('Momentum uses the new learning rate and momentum (tfjs setMomentum alone does not)', () => {
    expectClose(runTfjs(tf.train.momentum(0.1, 0.9), STEPS), refMomentum(0.9, STEPS));
    // Sanity: the reference with the momentum unchanged differs, so the test can tell.
    expect(Math.abs(refMomentum(0.9, STEPS)[0] - refMomentum(0.9, noMomentum)[0])).toBeGreaterThan(1e-3);
  });

  it('Adam uses the new learning rate and beta1 (bias correction with the current beta1, as PyTorch)', () => {
    expectClose(runTfjs(tf.train.adam(0.1, 0.9, 0.999, 1e-8), STEPS), refAdam(0.9, 0.999, 1e-8, STEPS));
  });

  it('Adamax uses the new learning rate and beta1', () => {
    expectClose(runTfjs(tf.train.adamax(0.1, 0.9, 0.999, 1e-8, 0), STEPS), refAdamax(0.9, 0.999, 1e-8, STEPS));
  });

  it('RMSProp uses the new learning rate and momentum', () => {
    expectClose(runTfjs(tf.train.rmsprop(0.1, 0.9, 0.5, 1e-8), STEPS), refRmsprop(0.9, 0.5, 1e-8, STEPS));
  });

  it('Adagrad uses the new learning rate', () => {
    const eps = tf.backend().epsilon();
    expectClose(runTfjs(tf.train.adagrad(0.1, 0.1), noMomentum), refAdagrad(0.1, eps, noMomentum));
  });

  it('Adadelta uses the new learning rate', () => {
    expectClose(runTfjs(tf.train.adadelta(0.1, 0.95, 1e-6), noMomentum), refAdadelta(0.95, 1e-6, noMomentum));
  });

  it('does not leak tensors when setting the learning rate and momentum repeatedly', () => {
    const opts = [tf.train.sgd(0.1), tf.train.momentum(0.1, 0.9), tf.train.adam(0.1)];
    const before = tf.memory().numTensors;
    for (let i = 0; i < 10; i++) {
      for (const opt of opts) {
        setLearningRate(opt, 0.01 * (i + 1));
        if (momentumKind(opt)) setMomentum(opt, 0.5 + i / 100);
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    opts.forEach((o) => o.dispose());
  });

  it('reports the momentum kind and value of each optimizer', () => {
    expect(getMomentum(tf.train.momentum(0.1, 0.8))).toBe(0.8);
    expect(getMomentum(tf.train.adam(0.1, 0.7))).toBe(0.7);
    expect(momentumKind(tf.train.rmsprop(0.1))).toBe('momentum');
    expect(momentumKind(tf.train.adamax(0.1))).toBe('beta1');
    expect(getMomentum(tf.train.sgd(0.1))).toBeUndefined();
    expect(() => setMomentum(tf.train.adagrad(0.1), 0.9)).toThrow(/no momentum or beta1/);
  });

  it('errors clearly for an optimizer it cannot drive, and for bad values', () => {
    class Mystery extends tf.Optimizer {
      static get className() {
        return 'Mystery';
      }
      applyGradients(): void {}
      getConfig() {
        return {};
      }
    }
    const opt = new Mystery();
    expect(() => setLearningRate(opt, 0.1)).toThrow(LuzError);
    expect(() => setLearningRate(opt, 0.1)).toThrow(/optimizer 'Mystery'.*SGD, Momentum, Adam/);
    expect(() => getLearningRate(opt)).toThrow(/Mystery/);
    expect(() => setLearningRate(tf.train.sgd(0.1), -1)).toThrow(/'lr' must be a finite number >= 0, got -1/);
    expect(() => setLearningRate({} as tf.Optimizer, 0.1)).toThrow(/Expected a tf.Optimizer/);
  });

  it('drives a custom optimizer that has setLearningRate()', () => {
    class Custom extends tf.SGDOptimizer {
      static override get className() {
        return 'Custom';
      }
    }
    const opt = new Custom(0.1);
    setLearningRate(opt, 0.02);
    expect(getLearningRate(opt)).toBe(0.02);
    opt.dispose();
  });
});
