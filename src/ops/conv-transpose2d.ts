/**
 * Shape inference and validation of a transposed convolution (THNN SpatialFullConvolution,
 * torch.nn.functional.conv_transpose2d), weight [Cin, Cout/groups, kH, kW]: the family's rules,
 * one `check` as ATen's slow_conv_transpose2d_shape_check; the passes are conv-plan.ts's.
 */
import type { ConvGeometry } from '../../workers/geometry.js';
import { type ConvFamily, convGeometry, convPasses, inputShapeOf, outputExtent } from './conv-plan.js';
import { OpError } from './errors.js';
import { AXES, batchOf, imageAxes, quote, type ShapeField, sameShape, showShape } from './fields.js';
import { resultDim } from './limits.js';
import { checkOutputPadding } from './params.js';
import { LazySize, transposedInputSize, transposedOutputSize } from './sizes.js';
import type { ConvParams } from './types.js';

const KIND = 'conv-transpose2d';

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
    t.input ? inputAndOutput(t.input, weight, p, axis, t.gradOutput) : inputExtent(t.gradOutput, weight, p, axis),
  );
  const batch = batchOf(t.input ?? t.gradOutput);
  const out = gradOutput ? gradOutput.shape[imageAxes(gradOutput).c] : resultDim('output', outChannels, 'channels');
  return convGeometry(KIND, { batch, inChannels, outChannels: out, inH, inW, outH, outW }, weight, p);
}

/** Kernel extent, stride, padding, dilation and outputPadding along one axis, as sizes.ts takes them. */
const axisParams = (weight: ShapeField, p: ConvParams, axis: number) =>
  [weight.shape[2 + axis], p.stride[axis], p.padding[axis], p.dilation[axis], p.outputPadding[axis]] as const;

/** [input, output] extent along one axis, the output computed from the input. */
function inputAndOutput(
  input: ShapeField,
  weight: ShapeField,
  p: ConvParams,
  axis: number,
  gradOutput?: ShapeField,
): [number, number] {
  const h = imageAxes(input).h + axis;
  const size = transposedOutputSize(input.shape[h], ...axisParams(weight, p, axis));
  return [input.shape[h], outputExtent(input, axis, size, gradOutput)];
}

/** [input, output] extent along one axis, the input derived from gradOutput. */
function inputExtent(gradOutput: ShapeField, weight: ShapeField, p: ConvParams, axis: number): [number, number] {
  const h = imageAxes(gradOutput).h + axis;
  const name = AXES[axis];
  const size = transposedInputSize(gradOutput.shape[h], ...axisParams(weight, p, axis));
  if (size.value === undefined || size.value < 1n) {
    throw new OpError(
      422,
      gradOutput.at(h),
      `${quote(gradOutput, h)} implies an input ${name} of ${size.formula}, which is not a whole number >= 1`,
    );
  }
  return [resultDim('gradInput', { value: size.value, formula: size.formula }, name), gradOutput.shape[h]];
}

const family: ConvFamily = {
  kind: KIND,
  check,
  needsInputShape: false,
  gradInput({ gradOutput, weight, inputShape }, p, batched) {
    const geometry = check({ weight, gradOutput }, p);
    const derived = inputShapeOf(geometry, batched);
    if (inputShape && !sameShape(inputShape.shape, derived)) {
      throw new OpError(
        422,
        'inputShape',
        `inputShape ${showShape(inputShape.shape)} must equal ${showShape(derived)}, the input shape gradOutput, weight and the params imply`,
      );
    }
    return { geometry, gradInput: derived };
  },
};

export const { forward, gradInput, gradParameters, backward } = convPasses(family);
