import { accumulateGradBias } from './bias.js';
import { accumulateWeightGradient } from './group-steps.js';
import type { GradParametersKernel } from './pass-signatures.js';

/**
 * Parameter gradients of a transposed convolution (THNN accGradParameters), accumulated into the
 * given buffers (beta = 1) and summed over the batch:
 * gradWeight_g += scale * input_n,g · im2col(gradOutput_n,g)^T and
 * gradBias[c] += scale * sum of gradOutput over n, h, w (skipped when gradBias is null).
 * gradWeight [inChannels, outChannels/groups, kH, kW]. columns holds scratchLength(g) elements.
 * It is conv2d-grad-parameters.ts with the sides swapped (gradOutput is unfolded here), kept as
 * its own kernel so that each pass of each family has one, named for THNN's function.
 */
export const convTranspose2dGradParameters: GradParametersKernel = (
  g,
  input,
  gradOutput,
  gradWeight,
  gradBias,
  scale,
  columns,
) => {
  accumulateWeightGradient(g, gradOutput, input, gradWeight, scale, columns);
  if (gradBias !== null) accumulateGradBias(g, gradOutput, scale, gradBias);
};
