import { describe, expect, it } from 'vitest';
import { fit, luzCallback, luzMonitor, availableMonitors, type LuzContext } from './index.js';
import { cpu, getData, linearModule } from './test-utils/helpers.js';

describe('luzMonitor: comparisons', () => {
  it('min / max: strict improvement by more than minDelta', () => {
    const min = luzMonitor({ mode: 'min', minDelta: 0.5 });
    expect(min.improves(1, undefined)).toBe(true);
    expect(min.improves(1.4, 2)).toBe(true);
    expect(min.improves(1.5, 2)).toBe(false); // exactly minDelta is not enough
    expect(min.improves(3, 2)).toBe(false);
    const max = luzMonitor({ mode: 'max' });
    expect(max.improves(2.0001, 2)).toBe(true);
    expect(max.improves(2, 2)).toBe(false);
  });

  it("zero: |new| closer to zero by more than minDelta (luz's zero mode ignored the new value)", () => {
    const zero = luzMonitor({ mode: 'zero', minDelta: 0.1 });
    expect(zero.improves(-0.5, 1)).toBe(true);
    expect(zero.improves(0.95, -1)).toBe(false);
    expect(zero.improves(2, 1)).toBe(false); // luz: (|1| - 0.1) > |0.1| -> true whatever the new value
    expect(zero.improves(-0.2, 0.4)).toBe(true);
  });

  it('validates its options, naming the argument and the value', () => {
    expect(() => luzMonitor({ monitor: 'loss' }, 'early stopping')).toThrow(/early stopping: 'monitor' must be '<set>_<metric>'.*got "loss"/);
    expect(() => luzMonitor({ mode: 'median' as never })).toThrow(/'mode' must be one of 'min', 'max', 'zero', got "median"/);
    expect(() => luzMonitor({ minDelta: -1 })).toThrow(/'minDelta' must be a finite number >= 0, got -1/);
  });
});

describe('luzMonitor: finding the value in the records', () => {
  const run = async (monitorName: string, callbacks: unknown[] = [], validData?: number) => {
    const values: number[] = [];
    const m = luzMonitor({ monitor: monitorName });
    let available: string[] = [];
    const probe = luzCallback({ name: 'probe', onEpochEnd(ctx: LuzContext) { available = availableMonitors(ctx); values.push(m.value(ctx)); } });
    const fitted = await fit(linearModule(), getData(60), { epochs: 2, verbose: false, accelerator: cpu(), validData, seed: 1, callbacks: [probe(), ...(callbacks as never[])] });
    return { values, fitted, available };
  };

  it('reads set_metric at the current epoch; the name is case-insensitive', async () => {
    const { values, fitted, available } = await run('Valid_LOSS', [], 0.2);
    expect(values).toEqual(fitted.records.metrics.valid.map((r) => r.loss));
    expect(available).toEqual(['train_loss', 'valid_loss']);
  });

  it('names the metric and lists the available ones when it does not exist', async () => {
    await expect(run('valid_loss')).rejects.toThrow(/the monitored metric 'valid_loss' was not found at epoch 1\. No validation metrics were logged: pass validData.*Available: 'train_loss'/);
    await expect(run('train_acc', [], 0.2)).rejects.toThrow(/'train_acc' was not found at epoch 1\. Available: 'train_loss', 'valid_loss'/);
  });

  it('supports named values (the loss of several optimizers: train_loss_<optimizer>) and metric names containing _', async () => {
    const ctx = { epoch: 1, getMetrics: (set: string) => (set === 'train' ? { loss: { gen: 1.5, disc: 0.5 }, mean_pred: 3 } : undefined) } as unknown as LuzContext;
    expect(luzMonitor({ monitor: 'train_loss_gen' }).value(ctx)).toBe(1.5);
    expect(luzMonitor({ monitor: 'train_loss_DISC' }).value(ctx)).toBe(0.5);
    expect(luzMonitor({ monitor: 'train_mean_pred' }).value(ctx)).toBe(3);
    expect(() => luzMonitor({ monitor: 'train_loss' }).value(ctx)).toThrow(/'train_loss' has several values at epoch 1 \(gen, disc\).*'train_loss_gen', 'train_loss_disc', 'train_mean_pred'/);
  });
});
