/**
 * A minimal TensorBoard event-file writer (Node): scalars and histograms, TFRecord-framed.
 * @module
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { histogram } from './histogram.js';
import { fileVersionEvent, summaryEvent } from './proto.js';
import { tfrecord } from './tfrecord.js';

/**
 * Writes a TensorBoard event file `events.out.tfevents.<secs>.<host>` in `logdir` (created if
 * needed). Records are buffered until {@link TfEventsWriter.flush}.
 *
 * @example
 * ```ts
 * const writer = new TfEventsWriter('logs/run1');
 * writer.scalar('train/loss', 0.5, 1);
 * writer.histogram('weights/kernel', kernel.dataSync(), 1);
 * writer.flush();
 * ```
 */
export class TfEventsWriter {
  /** Path of the event file. */
  readonly path: string;
  private pending: Uint8Array[] = [];

  constructor(readonly logdir: string) {
    mkdirSync(logdir, { recursive: true });
    const base = join(logdir, `events.out.tfevents.${Math.floor(Date.now() / 1000)}.${hostname()}`);
    let path = base;
    for (let i = 1; existsSync(path); i++) path = `${base}.${i}`;
    this.path = path;
    writeFileSync(path, tfrecord(fileVersionEvent(Date.now() / 1000)));
  }

  /** Queues a scalar summary (`simple_value`). */
  scalar(tag: string, value: number, step: number): this {
    this.pending.push(tfrecord(summaryEvent(Date.now() / 1000, step, [{ tag, simpleValue: value }])));
    return this;
  }

  /** Queues a histogram summary of `values` (TensorFlow's default buckets). */
  histogram(tag: string, values: ArrayLike<number>, step: number): this {
    this.pending.push(tfrecord(summaryEvent(Date.now() / 1000, step, [{ tag, histo: histogram(values) }])));
    return this;
  }

  /** Appends the queued records to the file. */
  flush(): void {
    if (this.pending.length === 0) return;
    appendFileSync(this.path, Buffer.concat(this.pending.splice(0)));
  }
}
