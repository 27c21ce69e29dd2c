/**
 * Shape inference and validation of a transposed convolution (THNN SpatialFullConvolution,
 * torch.nn.functional.conv_transpose2d), weight [Cin, Cout/groups, kH, kW].
 *
 * Each pass checks its own fields (400), then runs the one `check` all passes share (422), as
 * ATen's slow_conv_transpose2d_shape_check does, then the size limits (413).
 */
import type { ConvGeometry } from '../../workers/geometry.js';
import { convPlan, inputShapeOf, outputShapeOf } from './conv-plan.js';
import { OpError } from './errors.js';
import { batchOf, imageAxes, quote, type ShapeField, sameShape, shapeField, showShape, tensorField } from './fields.js';
import { checkAccumulators, readGradParameters } from './grad-parameters.js';
import { checkImage, checkImageLike, checkVector, checkWeight } from './guards.js';
import { resultDim } from './limits.js';
import { checkConvParams, checkOutputPadding, toWindow } from './params.js';
import { LazySize, transposedInputSize, transposedOutputSize } from './sizes.js';
import type { ConvParams, ConvPlan, Limits, Pair, Shape } from './types.js';

const KIND = 'conv-transpose2d';
const AXES = ['height', 'width'] as const;

/** grad-input has no input: its shape is derived from gradOutput, as THNN's updateGradInput does. */
type Tensors = { readonly weight: ShapeField; readonly bias?: ShapeField } & (
  | { readonly input: ShapeField; readonly gradOutput?: ShapeField }
  | { readonly input?: undefined; readonly gradOutput: ShapeField }
);

/** Every 422 rule of a transposed convolution, for whichever tensors a pass has. */
function check(t: Tensors, p: ConvParams): ConvGeometry {
  checkOutputPadding(p);
  const { weight, bias, gradOutput } = t;
  const { groups } = p;
  const [inChannels, perGroup] = weight.shape;
  if (t.input) {
    const { c } = imageAxes(t.input);
    if (t.input.shape[c] !== inChannels) {
      throw new OpError(422, t.input.at(c), `${quote(t.input, c)} must equal ${quote(weight, 0)}`);
    }
  }
  if (inChannels % groups !== 0) {
    throw new OpError(422, 'groups', `groups (${groups}) must divide the input channels, ${quote(weight, 0)}`);
  }
  const outChannels = new LazySize(
    BigInt(perGroup) * BigInt(groups),
    () => `${weight.at(1)} * groups = ${perGroup} * ${groups} = ${BigInt(perGroup) * BigInt(groups)}`,
  );
  if (bias && BigInt(bias.shape[0]) !== outChannels.value) {
    throw new OpError(422, bias.at(0), `${quote(bias, 0)} must equal the output channels, ${outChannels.formula}`);
  }
  if (gradOutput) {
    const { n, c } = imageAxes(gradOutput);
    if (t.input && n !== undefined && gradOutput.shape[n] !== t.input.shape[n]) {
      throw new OpError(422, gradOutput.at(n), `${quote(gradOutput, n)} must equal ${quote(t.input, n)}`);
    }
    if (BigInt(gradOutput.shape[c]) !== outChannels.value) {
      throw new OpError(
        422,
        gradOutput.at(c),
        `${quote(gradOutput, c)} must equal the output channels, ${outChannels.formula}`,
      );
    }
  }
  const [[inH, outH], [inW, outW]] = [0, 1].map((axis) =>
    t.input ? outputExtent(t.input, weight, p, axis, t.gradOutput) : inputExtent(t.gradOutput, weight, p, axis),
  );
  return {
    kind: KIND,
    batch: batchOf(t.input ?? t.gradOutput),
    groups,
    inChannels,
    outChannels: gradOutput ? gradOutput.shape[imageAxes(gradOutput).c] : resultDim('output', outChannels, 'channels'),
    inH,
    inW,
    outH,
    outW,
    aH: p.outputPadding[0],
    aW: p.outputPadding[1],
    ...toWindow([weight.shape[2], weight.shape[3]], p),
  };
}

/** [input, output] extent along one axis, the output computed from the input. */
function outputExtent(
  input: ShapeField,
  weight: ShapeField,
  p: ConvParams,
  axis: number,
  gradOutput?: ShapeField,
): [number, number] {
  const h = imageAxes(input).h + axis;
  const name = AXES[axis];
  const out = transposedOutputSize(
    input.shape[h],
    weight.shape[2 + axis],
    p.stride[axis],
    p.padding[axis],
    p.dilation[axis],
    p.outputPadding[axis],
  );
  if (out.value < 1n) {
    throw new OpError(422, input.at(h), `${quote(input, h)} gives an output ${name} below 1: ${out.formula}`);
  }
  if (!gradOutput) return [input.shape[h], resultDim('output', out, name)];
  if (BigInt(gradOutput.shape[h]) !== out.value) {
    throw new OpError(
      422,
      gradOutput.at(h),
      `${quote(gradOutput, h)} must equal the output ${name} that ${input.at(h)} and the params give: ${out.formula}`,
    );
  }
  return [input.shape[h], gradOutput.shape[h]];
}

/** [input, output] extent along one axis, the input derived from gradOutput. */
function inputExtent(gradOutput: ShapeField, weight: ShapeField, p: ConvParams, axis: number): [number, number] {
  const h = imageAxes(gradOutput).h + axis;
  const name = AXES[axis];
  const size = transposedInputSize(
    gradOutput.shape[h],
    weight.shape[2 + axis],
    p.stride[axis],
    p.padding[axis],
    p.dilation[axis],
    p.outputPadding[axis],
  );
  if (size.value === undefined || size.value < 1n) {
    throw new OpError(
      422,
      gradOutput.at(h),
      `${quote(gradOutput, h)} implies an input ${name} of ${size.formula}, which is not a whole number >= 1`,
    );
  }
  return [resultDim('gradInput', { value: size.value, formula: size.formula }, name), gradOutput.shape[h]];
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
  t: { gradOutput: Shape; weight: Shape; inputShape?: Shape },
  p: ConvParams,
  limits: Limits,
): ConvPlan<'gradInput'> {
  const gradOutput = tensorField('gradOutput', t.gradOutput);
  checkImage(gradOutput);
  const weight = tensorField('weight', t.weight);
  checkWeight(weight);
  const inputShape = t.inputShape === undefined ? undefined : shapeField('inputShape', t.inputShape);
  if (inputShape) checkImageLike(inputShape, gradOutput);
  checkConvParams(p, KIND);
  const geometry = check({ weight, gradOutput }, p);
  const batched = gradOutput.shape.length === 4;
  const derived = inputShapeOf(geometry, batched);
  if (inputShape && !sameShape(inputShape.shape, derived)) {
    throw new OpError(
      422,
      'inputShape',
      `inputShape ${showShape(inputShape.shape)} must equal ${showShape(derived)}, the input shape gradOutput, weight and the params imply`,
    );
  }
  return convPlan(geometry, batched, [gradOutput, weight], { gradInput: derived }, 1, limits);
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
