import type { ConvGeometry, FloatArray } from '../geometry.js';
import { multiplyThenFold } from './group-steps.js';

/**
 * Gradient of a plain convolution with respect to its input (THNN updateGradInput). Per sample
 * and group: gradInput_n,g = col2im(weight_g^T · gradOutput_n,g). gradInput is overwritten.
 * columns holds scratchLength(g) elements.
 */
export function conv2dGradInput<F extends FloatArray>(
  g: ConvGeometry,
  gradOutput: F,
  weight: F,
  gradInput: F,
  columns: F,
): void {
  multiplyThenFold(g, gradOutput, weight, gradInput, columns);
}
