/**
 * Shape inference and validation of a plain convolution (THNN SpatialConvolutionMM,
 * torch.nn.functional.conv2d), weight [Cout, Cin/groups, kH, kW]: the family's rules; the
 * passes are conv-plan.ts's. grad-input needs inputShape because several input sizes give one
 * output size when the stride does not divide evenly.
 */
import type { ConvGeometry } from '../../workers/geometry.js';
import { type ConvFamily, type ConvTensors, convGeometry, convPasses, outputExtent } from './conv-plan.js';
import { OpError } from './errors.js';
import { batchOf, imageAxes, quote } from './fields.js';
import { windowCount } from './sizes.js';
import type { ConvParams } from './types.js';

const KIND = 'conv2d';

/** Every 422 rule of a plain convolution, for whichever tensors a pass has. */
function check(t: ConvTensors, p: ConvParams): ConvGeometry {
  const { input, weight, bias, gradOutput } = t;
  const { groups } = p;
  const { n, c } = imageAxes(input);
  const [outChannels, perGroup] = weight.shape;
  const inChannels = input.shape[c];
  const expected = BigInt(perGroup) * BigInt(groups);
  if (BigInt(inChannels) !== expected) {
    throw new OpError(
      422,
      input.at(c),
      `${quote(input, c)} must equal ${weight.at(1)} * groups (${perGroup} * ${groups} = ${expected})`,
    );
  }
  if (outChannels % groups !== 0) {
    throw new OpError(422, 'groups', `groups (${groups}) must divide the output channels, ${quote(weight, 0)}`);
  }
  if (bias && bias.shape[0] !== outChannels) {
    throw new OpError(422, bias.at(0), `${quote(bias, 0)} must equal the output channels, ${quote(weight, 0)}`);
  }
  if (gradOutput) {
    if (n !== undefined && gradOutput.shape[n] !== input.shape[n]) {
      throw new OpError(422, gradOutput.at(n), `${quote(gradOutput, n)} must equal ${quote(input, n)}`);
    }
    if (gradOutput.shape[c] !== outChannels) {
      throw new OpError(
        422,
        gradOutput.at(c),
        `${quote(gradOutput, c)} must equal the output channels, ${quote(weight, 0)}`,
      );
    }
  }
  const [outH, outW] = [0, 1].map((axis) => {
    const h = imageAxes(input).h + axis;
    const size = windowCount(input.shape[h], weight.shape[2 + axis], p.stride[axis], p.padding[axis], p.dilation[axis]);
    return outputExtent(input, axis, size, gradOutput);
  });
  const [inH, inW] = [input.shape[c + 1], input.shape[c + 2]];
  return convGeometry(KIND, { batch: batchOf(input), inChannels, outChannels, inH, inW, outH, outW }, weight, p);
}

const family: ConvFamily = {
  kind: KIND,
  check,
  needsInputShape: true,
  // The passes ask for inputShape first (needsInputShape), so it is here.
  gradInput: ({ gradOutput, weight, inputShape }, p) => ({
    geometry: check({ input: inputShape!, weight, gradOutput }, p),
    gradInput: [...inputShape!.shape],
  }),
};

export const { forward, gradInput, gradParameters, backward } = convPasses(family);
