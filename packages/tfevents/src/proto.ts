/**
 * The subset of TensorFlow's `Event` / `Summary` / `HistogramProto` messages (tensorflow/core/util/event.proto,
 * framework/summary.proto) the writer uses, as a protobufjs JSON schema.
 * @module
 */
import protobuf from 'protobufjs/light.js';
import type { Histogram } from './histogram.js';

const schema = {
  nested: {
    Event: {
      oneofs: { what: { oneof: ['fileVersion', 'summary'] } },
      fields: {
        wallTime: { type: 'double', id: 1 },
        step: { type: 'int64', id: 2 },
        fileVersion: { type: 'string', id: 3 },
        summary: { type: 'Summary', id: 5 },
      },
    },
    Summary: {
      fields: { value: { rule: 'repeated', type: 'Value', id: 1 } },
      nested: {
        Value: {
          oneofs: { value: { oneof: ['simpleValue', 'histo'] } },
          fields: {
            tag: { type: 'string', id: 1 },
            simpleValue: { type: 'float', id: 2 },
            histo: { type: 'HistogramProto', id: 5 },
          },
        },
      },
    },
    HistogramProto: {
      fields: {
        min: { type: 'double', id: 1 },
        max: { type: 'double', id: 2 },
        num: { type: 'double', id: 3 },
        sum: { type: 'double', id: 4 },
        sumSquares: { type: 'double', id: 5 },
        bucketLimit: { rule: 'repeated', type: 'double', id: 6, options: { packed: true } },
        bucket: { rule: 'repeated', type: 'double', id: 7, options: { packed: true } },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);
const Event = root.lookupType('Event');

/** A summary value: a scalar or a histogram under a tag. */
export type SummaryValue = { tag: string; simpleValue: number } | { tag: string; histo: Histogram };

/** Encodes an `Event` carrying `file_version` (the first record of every event file). */
export function fileVersionEvent(wallTime: number, version = 'brain.Event:2'): Uint8Array {
  return Event.encode(Event.fromObject({ wallTime, step: 0, fileVersion: version })).finish();
}

/** Encodes an `Event` carrying a `Summary` with `values` at `step`. */
export function summaryEvent(wallTime: number, step: number, values: SummaryValue[]): Uint8Array {
  return Event.encode(Event.fromObject({ wallTime, step, summary: { value: values } })).finish();
}
