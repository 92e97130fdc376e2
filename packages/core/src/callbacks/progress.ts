import { luzCallback } from '../callback.js';
import type { LuzContext, MetricSet } from '../context.js';
import { isTTY, rewriteLine, terminalWidth, writeLine } from './output.js';
import { metricRecordNames } from './metrics.js';

const RENDER_INTERVAL_MS = 100;

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${Math.round(s % 60)}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

interface Bar {
  set: MetricSet | 'predict';
  total: number | undefined;
  current: number;
  start: number;
  lastRender: number;
}

function renderBar(ctx: LuzContext, bar: Bar): string {
  const { current, total } = bar;
  const elapsed = (performance.now() - bar.start) / 1000;
  const parts: string[] = [];
  if (total !== undefined) {
    const width = Math.max(10, Math.min(30, terminalWidth() - 60));
    const done = Math.min(width, Math.round((current / Math.max(total, 1)) * width));
    const head = done < width ? '>' : '';
    parts.push(`${current}/${total} [${'='.repeat(Math.max(0, done - head.length))}${head}${'-'.repeat(width - done)}]`);
    parts.push(`ETA: ${formatSeconds(current > 0 ? (elapsed / current) * (total - current) : NaN)}`);
  } else {
    parts.push(`${current}/unk [${'-\\|/'[current % 4]}]`);
    parts.push(`Rate: ${(current / Math.max(elapsed, 1e-9)).toFixed(1)} iter/s`);
  }
  if (bar.set !== 'predict') {
    const metrics = ctx.metrics[bar.set];
    const names = metricRecordNames(metrics);
    metrics.forEach((m, i) => {
      const logged = ctx.getMetric(names[i], bar.set as MetricSet, ctx.epoch);
      parts.push(`${m.abbrev}: ${m.format(logged ?? m.compute())}`);
    });
  }
  return parts.join(' - ');
}

/**
 * Prints progress (default in `fit`, `evaluate` and `predict`) when `ctx.verbose`: a progress bar
 * with ETA and current metrics on a terminal, and luz's epoch lines everywhere:
 * `Epoch 1/10`, `Train metrics: Loss: 1.2671 - Acc: 0.9163`, `Valid metrics: ...`.
 *
 * @example
 * ```ts
 * await fit(module, data, { epochs: 3, verbose: true }); // prints Epoch 1/3, Train metrics: ..., ...
 * ```
 */
export const luzCallbackProgress = luzCallback({
  name: 'progress_callback',
  initialize() {
    this.bar = undefined as Bar | undefined;
  },
  open(ctx: LuzContext, set: Bar['set']) {
    this.bar = ctx.verbose && isTTY() ? { set, total: ctx.data?.length, current: 0, start: performance.now(), lastRender: 0 } : undefined;
  },
  tick(ctx: LuzContext) {
    const bar = this.bar as Bar | undefined;
    if (!bar) return;
    bar.current += 1;
    const t = performance.now();
    if (t - bar.lastRender >= RENDER_INTERVAL_MS || bar.current === bar.total) {
      bar.lastRender = t;
      rewriteLine(renderBar(ctx, bar));
    }
  },
  close(ctx: LuzContext) {
    const bar = this.bar as Bar | undefined;
    if (!bar) return;
    rewriteLine(renderBar(ctx, bar));
    writeLine('');
    this.bar = undefined;
  },
  onEpochBegin(ctx: LuzContext) {
    if (ctx.verbose) writeLine(`Epoch ${ctx.epoch}/${ctx.maxEpochs}`);
  },
  onTrainBegin(ctx: LuzContext) { this.open(ctx, 'train'); },
  onTrainBatchEnd(ctx: LuzContext) { this.tick(ctx); },
  onTrainEnd(ctx: LuzContext) { this.close(ctx); },
  onValidBegin(ctx: LuzContext) { this.open(ctx, 'valid'); },
  onValidBatchEnd(ctx: LuzContext) { this.tick(ctx); },
  onValidEnd(ctx: LuzContext) { this.close(ctx); },
  onPredictBegin(ctx: LuzContext) { this.open(ctx, 'predict'); },
  onPredictBatchEnd(ctx: LuzContext) { this.tick(ctx); },
  onPredictEnd(ctx: LuzContext) { this.close(ctx); },
  onEpochEnd(ctx: LuzContext) {
    if (!ctx.verbose) return;
    for (const [set, label] of [['train', 'Train'], ['valid', 'Valid']] as const) {
      if (ctx.getMetrics(set, ctx.epoch)) writeLine(`${label} metrics: ${ctx.getFormattedMetrics(set, ctx.epoch)}`);
    }
  },
});
