/**
 * Dynamic loss scaling with torch's `GradScaler` arithmetic (float32 scale, `_amp_update_scale_`).
 * @module
 */
import * as tf from '@tensorflow/tfjs';

/** Options of the scaler (see `luzCallbackMixedPrecision`). */
export interface ScalerOptions {
  initScale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
}

/** The scaler's state, as saved in checkpoints. */
export interface ScalerState {
  scale: number;
  growthTracker: number;
}

/**
 * torch's `_amp_update_scale_`: on inf/NaN the scale is multiplied by `backoffFactor` and the growth
 * tracker reset; otherwise the tracker counts successful steps and, on reaching `growthInterval`,
 * the scale grows by `growthFactor` (kept only if finite in float32) and the tracker resets.
 */
export function updateScale(state: ScalerState, foundInf: boolean, o: ScalerOptions): ScalerState {
  if (foundInf) return { scale: Math.fround(state.scale * o.backoffFactor), growthTracker: 0 };
  const successful = state.growthTracker + 1;
  if (successful === o.growthInterval) {
    const grown = Math.fround(state.scale * o.growthFactor);
    return { scale: Number.isFinite(grown) ? grown : state.scale, growthTracker: 0 };
  }
  return { scale: state.scale, growthTracker: successful };
}

/** Whether every value of every tensor is finite, with one read back from the backend. */
export function allFinite(tensors: tf.Tensor[]): boolean {
  if (tensors.length === 0) return true;
  return tf.tidy(() => tf.stack(tensors.map((t) => tf.all(tf.isFinite(t)))).all().dataSync()[0] === 1);
}
