import type { FloatArray } from '../../workers/geometry.js';
import type { Dtype } from '../schemas/tensor.js';

/**
 * A result's values: one typed array, or the pieces that, laid end to end, are its values. A
 * split's parts return their shares of a result in order (src/split.ts); the answer writes them
 * one after another instead of joining them first, which for a DCGAN forward on 2 workers saved
 * a 2 MB allocation and copy per request.
 */
export type Values = FloatArray | readonly FloatArray[];

export const piecesOf = (values: Values): readonly FloatArray[] =>
  Array.isArray(values) ? values : [values as FloatArray];

export const lengthOf = (values: Values): number => piecesOf(values).reduce((n, p) => n + p.length, 0);

export const dtypeOf = (values: Values): Dtype => (piecesOf(values)[0] instanceof Float64Array ? 'float64' : 'float32');

/** The values as one typed array: the array itself, or the pieces joined (for the paths that are slow anyway). */
export function joined(values: Values): FloatArray {
  if (!Array.isArray(values)) return values as FloatArray;
  const pieces = values as readonly FloatArray[];
  const length = lengthOf(pieces);
  const whole = dtypeOf(pieces) === 'float64' ? new Float64Array(length) : new Float32Array(length);
  let at = 0;
  for (const p of pieces) {
    whole.set(p, at);
    at += p.length;
  }
  return whole;
}
