import { addBias } from './bias.js';
import { unfoldThenMultiply } from './group-steps.js';
import type { ForwardKernel } from './pass-signatures.js';

/**
 * Plain convolution (THNN SpatialConvolutionMM updateOutput). Per sample and group:
 * output_n,g = weight_g · im2col(input_n,g) on the output grid, then bias per output channel.
 * weight [outChannels, inChannels/groups, kH, kW]; bias may be null. columns holds
 * scratchLength(g) elements.
 */
export const conv2dForward: ForwardKernel = (g, input, weight, bias, output, columns) => {
  unfoldThenMultiply(g, input, weight, output, columns);
  if (bias !== null) addBias(g, bias, output);
};
