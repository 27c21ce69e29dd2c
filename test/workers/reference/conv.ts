import type { ConvGeometry } from '../../../workers/geometry.js';
import { gradBiasReference } from './bias.js';
import {
  convTranspose2dForwardReference,
  convTranspose2dGradInputReference,
  convTranspose2dGradWeightReference,
} from './conv-transpose2d.js';
import { conv2dForwardReference, conv2dGradInputReference, conv2dGradWeightReference } from './conv2d.js';

/** The reference of either convolution, picked by the geometry's kind. */
export const references = {
  forward: (g: ConvGeometry, input: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number> | null) =>
    g.kind === 'conv2d'
      ? conv2dForwardReference(g, input, weight, bias)
      : convTranspose2dForwardReference(g, input, weight, bias),
  gradInput: (g: ConvGeometry, gradOutput: ArrayLike<number>, weight: ArrayLike<number>) =>
    g.kind === 'conv2d'
      ? conv2dGradInputReference(g, gradOutput, weight)
      : convTranspose2dGradInputReference(g, gradOutput, weight),
  gradWeight: (g: ConvGeometry, input: ArrayLike<number>, gradOutput: ArrayLike<number>) =>
    g.kind === 'conv2d'
      ? conv2dGradWeightReference(g, input, gradOutput)
      : convTranspose2dGradWeightReference(g, input, gradOutput),
  gradBias: gradBiasReference,
};

/** start + scale * delta, element-wise: what accumulating a scaled gradient into start must give. */
export function accumulated(start: ArrayLike<number>, scale: number, delta: ArrayLike<number>): Float64Array {
  return Float64Array.from(delta, (d, i) => start[i] + scale * d);
}
