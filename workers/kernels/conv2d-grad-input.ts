import { multiplyThenFold } from './group-steps.js';
import type { GradInputKernel } from './pass-signatures.js';

/**
 * Gradient of a plain convolution with respect to its input (THNN updateGradInput). Per sample
 * and group: gradInput_n,g = col2im(weight_g^T · gradOutput_n,g). gradInput is overwritten.
 * columns holds scratchLength(g) elements.
 */
export const conv2dGradInput: GradInputKernel = (g, gradOutput, weight, gradInput, columns) => {
  multiplyThenFold(g, gradOutput, weight, gradInput, columns);
};
