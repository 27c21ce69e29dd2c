import { addBias } from './bias.js';
import { multiplyThenFold } from './group-steps.js';
import type { ForwardKernel } from './pass-signatures.js';

/**
 * Transposed convolution (THNN SpatialFullConvolution updateOutput). Per sample and group:
 * columns = weight_g^T · input_n,g, folded by col2im onto the output (the column grid is the
 * input's), then bias per output channel. weight [inChannels, outChannels/groups, kH, kW];
 * bias may be null. columns holds scratchLength(g) elements.
 */
export const convTranspose2dForward: ForwardKernel = (g, input, weight, bias, output, columns) => {
  multiplyThenFold(g, input, weight, output, columns);
  if (bias !== null) addBias(g, bias, output);
};
