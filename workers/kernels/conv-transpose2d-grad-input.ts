import type { ConvGeometry, FloatArray } from '../geometry.js';
import { unfoldThenMultiply } from './group-steps.js';

/**
 * Gradient of a transposed convolution with respect to its input (THNN updateGradInput), i.e. a
 * plain convolution of gradOutput with the same weight. Per sample and group:
 * gradInput_n,g = weight_g · im2col(gradOutput_n,g), the im2col taken on the input's grid.
 * gradInput is overwritten. columns holds scratchLength(g) elements.
 */
export function convTranspose2dGradInput<F extends FloatArray>(
  g: ConvGeometry,
  gradOutput: F,
  weight: F,
  gradInput: F,
  columns: F,
): void {
  unfoldThenMultiply(g, gradOutput, weight, gradInput, columns);
}
