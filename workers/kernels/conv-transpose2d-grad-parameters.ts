import type { ConvGeometry, FloatArray } from '../geometry.js';
import { accumulateGradBias } from './bias.js';
import { accumulateWeightGradient } from './group-steps.js';

/**
 * Parameter gradients of a transposed convolution (THNN accGradParameters), accumulated into the
 * given buffers (beta = 1) and summed over the batch:
 * gradWeight_g += scale * input_n,g · im2col(gradOutput_n,g)^T and
 * gradBias[c] += scale * sum of gradOutput over n, h, w (skipped when gradBias is null).
 * gradWeight [inChannels, outChannels/groups, kH, kW]. columns holds scratchLength(g) elements.
 */
export function convTranspose2dGradParameters<F extends FloatArray>(
  g: ConvGeometry,
  input: F,
  gradOutput: F,
  gradWeight: F,
  gradBias: F | null,
  scale: number,
  columns: F,
): void {
  accumulateWeightGradient(g, gradOutput, input, gradWeight, scale, columns);
  if (gradBias !== null) accumulateGradBias(g, gradOutput, scale, gradBias);
}
