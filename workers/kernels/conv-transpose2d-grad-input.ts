import { unfoldThenMultiply } from './group-steps.js';
import type { GradInputKernel } from './pass-signatures.js';

/**
 * Gradient of a transposed convolution with respect to its input (THNN updateGradInput), i.e. a
 * plain convolution of gradOutput with the same weight. Per sample and group:
 * gradInput_n,g = weight_g · im2col(gradOutput_n,g), the im2col taken on the input's grid.
 * gradInput is overwritten. columns holds scratchLength(g) elements.
 */
export const convTranspose2dGradInput: GradInputKernel = (g, gradOutput, weight, gradInput, columns) => {
  unfoldThenMultiply(g, gradOutput, weight, gradInput, columns);
};
