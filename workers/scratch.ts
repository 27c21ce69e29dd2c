import type { Dtype, FloatArray } from './geometry.js';

/**
 * One column buffer per dtype for this thread's module instance (each worker thread has its
 * own), grown on demand and never shrunk, so a worker allocates scratch only when it meets a
 * larger request than any before. Kernels overwrite every element they read, so it is never
 * cleared.
 */
const buffers: { float32: Float32Array; float64: Float64Array } = {
  float32: new Float32Array(0),
  float64: new Float64Array(0),
};

/** A view of exactly `length` elements of this thread's scratch buffer for `dtype`. */
export function scratch(dtype: Dtype, length: number): FloatArray {
  if (buffers[dtype].length < length) {
    if (dtype === 'float32') buffers.float32 = new Float32Array(length);
    else buffers.float64 = new Float64Array(length);
  }
  return buffers[dtype].subarray(0, length);
}
