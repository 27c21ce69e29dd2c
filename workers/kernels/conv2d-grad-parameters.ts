import { accumulateGradBias } from './bias.js';
import { accumulateWeightGradient } from './group-steps.js';
import type { GradParametersKernel } from './pass-signatures.js';

/**
 * Parameter gradients of a plain convolution (THNN accGradParameters), accumulated into the given
 * buffers (beta = 1) and summed over the batch:
 * gradWeight_g += scale * gradOutput_n,g · im2col(input_n,g)^T and
 * gradBias[c] += scale * sum of gradOutput over n, h, w (skipped when gradBias is null).
 * gradWeight [outChannels, inChannels/groups, kH, kW]. columns holds scratchLength(g) elements.
 */
export const conv2dGradParameters: GradParametersKernel = (
  g,
  input,
  gradOutput,
  gradWeight,
  gradBias,
  scale,
  columns,
) => {
  accumulateWeightGradient(g, input, gradOutput, gradWeight, scale, columns);
  if (gradBias !== null) accumulateGradBias(g, gradOutput, scale, gradBias);
};
