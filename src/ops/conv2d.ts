/**
 * Shape inference and validation of a plain convolution (THNN SpatialConvolutionMM,
 * torch.nn.functional.conv2d), weight [Cout, Cin/groups, kH, kW].
 *
 * Each pass checks its own fields (400), then runs the one `check` all passes share (422), then
 * the size limits (413). The input always comes from the request: grad-input needs inputShape
 * because several input sizes give one output size when the stride does not divide evenly.
 */
import type { ConvGeometry } from '../../workers/geometry.js';
import { convPlan, outputShapeOf } from './conv-plan.js';
import { OpError } from './errors.js';
import { batchOf, imageAxes, quote, type ShapeField, shapeField, tensorField } from './fields.js';
import { checkAccumulators, readGradParameters } from './grad-parameters.js';
import { checkImage, checkImageLike, checkVector, checkWeight } from './guards.js';
import { resultDim } from './limits.js';
import { checkConvParams, toWindow } from './params.js';
import { windowCount } from './sizes.js';
import type { ConvParams, ConvPlan, Limits, Pair, Shape } from './types.js';

const KIND = 'conv2d';
const AXES = ['height', 'width'] as const;

interface Tensors {
  /** The input tensor, or grad-input's inputShape. */
  readonly input: ShapeField;
  readonly weight: ShapeField;
  readonly bias?: ShapeField;
  readonly gradOutput?: ShapeField;
}

/** Every 422 rule of a plain convolution, for whichever tensors a pass has. */
function check(t: Tensors, p: ConvParams): ConvGeometry {
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
  const [outH, outW] = [0, 1].map((axis) => outputExtent(input, weight, p, axis, gradOutput));
  return {
    kind: KIND,
    batch: batchOf(input),
    groups,
    inChannels,
    outChannels,
    inH: input.shape[c + 1],
    inW: input.shape[c + 2],
    outH,
    outW,
    aH: 0,
    aW: 0,
    ...toWindow([weight.shape[2], weight.shape[3]], p),
  };
}

function outputExtent(
  input: ShapeField,
  weight: ShapeField,
  p: ConvParams,
  axis: number,
  gradOutput?: ShapeField,
): number {
  const h = imageAxes(input).h + axis;
  const name = AXES[axis];
  const out = windowCount(input.shape[h], weight.shape[2 + axis], p.stride[axis], p.padding[axis], p.dilation[axis]);
  if (out.value < 1n) {
    // PyTorch words this as the kernel not fitting in the padded input.
    throw new OpError(422, input.at(h), `${quote(input, h)} gives an output ${name} below 1: ${out.formula}`);
  }
  if (!gradOutput) return resultDim('output', out, name);
  if (BigInt(gradOutput.shape[h]) !== out.value) {
    throw new OpError(
      422,
      gradOutput.at(h),
      `${quote(gradOutput, h)} must equal the output ${name} that ${input.at(h)} and the params give: ${out.formula}`,
    );
  }
  return gradOutput.shape[h];
}

export function forward(
  t: { input: Shape; weight: Shape; bias?: Shape },
  p: ConvParams,
  limits: Limits,
): ConvPlan<'output'> {
  const input = tensorField('input', t.input);
  checkImage(input);
  const weight = tensorField('weight', t.weight);
  checkWeight(weight);
  const bias = t.bias === undefined ? undefined : tensorField('bias', t.bias);
  if (bias) checkVector(bias);
  checkConvParams(p, KIND);
  const geometry = check({ input, weight, bias }, p);
  const batched = input.shape.length === 4;
  return convPlan(geometry, batched, [input, weight, bias], { output: outputShapeOf(geometry, batched) }, 1, limits);
}

export function gradInput(
  t: { gradOutput: Shape; weight: Shape; inputShape: Shape },
  p: ConvParams,
  limits: Limits,
): ConvPlan<'gradInput'> {
  const gradOutput = tensorField('gradOutput', t.gradOutput);
  checkImage(gradOutput);
  const weight = tensorField('weight', t.weight);
  checkWeight(weight);
  if (t.inputShape === undefined) {
    throw new OpError(
      400,
      'inputShape',
      'inputShape is required: several input sizes give the same conv2d output size',
    );
  }
  const input = shapeField('inputShape', t.inputShape);
  checkImageLike(input, gradOutput);
  checkConvParams(p, KIND);
  const geometry = check({ input, weight, gradOutput }, p);
  return convPlan(
    geometry,
    gradOutput.shape.length === 4,
    [gradOutput, weight],
    { gradInput: [...input.shape] },
    1,
    limits,
  );
}

export function gradParameters(
  t: { input: Shape; gradOutput: Shape; kernelSize?: Pair; gradWeight?: Shape; gradBias?: Shape; computeBias: boolean },
  p: ConvParams,
  limits: Limits,
): ConvPlan<'gradWeight' | 'gradBias', 'gradBias'> {
  const f = readGradParameters(t);
  checkConvParams(p, KIND);
  const { weight, outChannels } = checkAccumulators(f, p, KIND);
  const geometry = check({ input: f.input, weight, gradOutput: f.gradOutput }, p);
  const shapes: ConvPlan<'gradWeight' | 'gradBias', 'gradBias'>['shapes'] = t.computeBias
    ? { gradWeight: weight.shape, gradBias: [outChannels] }
    : { gradWeight: weight.shape };
  return convPlan(
    geometry,
    f.input.shape.length === 4,
    [f.input, f.gradOutput, f.gradWeight, f.gradBias],
    shapes,
    1,
    limits,
  );
}

export function backward(
  t: { input: Shape; gradOutput: Shape; weight: Shape; computeBias: boolean },
  p: ConvParams,
  limits: Limits,
): ConvPlan<'gradInput' | 'gradWeight' | 'gradBias', 'gradBias'> {
  const input = tensorField('input', t.input);
  checkImage(input);
  const gradOutput = tensorField('gradOutput', t.gradOutput);
  checkImageLike(gradOutput, input);
  const weight = tensorField('weight', t.weight);
  checkWeight(weight);
  checkConvParams(p, KIND);
  const geometry = check({ input, weight, gradOutput }, p);
  const gradients = { gradInput: [...input.shape], gradWeight: [...weight.shape] };
  const shapes: ConvPlan<'gradInput' | 'gradWeight' | 'gradBias', 'gradBias'>['shapes'] = t.computeBias
    ? { ...gradients, gradBias: [geometry.outChannels] }
    : gradients;
  return convPlan(geometry, input.shape.length === 4, [input, gradOutput, weight], shapes, 2, limits);
}
