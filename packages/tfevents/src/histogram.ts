/**
 * TensorFlow's default histogram (`tensorflow/core/lib/histogram/histogram.cc`): exponential
 * buckets ±1e-12·1.1^k up to 1e20, plus 0 and ±DBL_MAX; empty runs collapsed when encoded.
 * @module
 */

/** The fields of a `HistogramProto`. */
export interface Histogram {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  /** Right edge of each bucket (bucket i holds `bucketLimit[i-1] <= x < bucketLimit[i]`). */
  bucketLimit: number[];
  bucket: number[];
}

const DEFAULT_LIMITS: number[] = (() => {
  const pos: number[] = [];
  for (let v = 1e-12; v < 1e20; v *= 1.1) pos.push(v);
  pos.push(Number.MAX_VALUE);
  const neg = pos.map((v) => -v).reverse();
  return [...neg, 0, ...pos];
})();

/** Index of the first limit greater than `x` (C++ `std::upper_bound`). */
function upperBound(limits: number[], x: number): number {
  let lo = 0;
  let hi = limits.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (limits[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The histogram of `values` like TensorFlow's `Histogram::Add` then `EncodeToProto(…, false)`.
 * NaN values are left out; ±Infinity fall in the outermost buckets.
 */
export function histogram(values: ArrayLike<number>): Histogram {
  const counts = new Float64Array(DEFAULT_LIMITS.length);
  let min = Number.MAX_VALUE;
  let max = -Number.MAX_VALUE;
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    counts[Math.min(upperBound(DEFAULT_LIMITS, v), counts.length - 1)] += 1;
    if (v < min) min = v;
    if (v > max) max = v;
    num += 1;
    sum += v;
    sumSquares += v * v;
  }
  const bucketLimit: number[] = [];
  const bucket: number[] = [];
  for (let i = 0; i < counts.length; ) {
    let end = DEFAULT_LIMITS[i];
    let count = counts[i];
    i++;
    if (count <= 0) {
      // Collapse a run of empty buckets into one.
      while (i < counts.length && counts[i] <= 0) {
        end = DEFAULT_LIMITS[i];
        count = counts[i];
        i++;
      }
    }
    bucketLimit.push(end);
    bucket.push(count);
  }
  return { min, max, num, sum, sumSquares, bucketLimit, bucket };
}
