/**
 * What grad-parameters adds to a convolution's shared check. It has no weight: the weight's
 * shape follows from input, gradOutput, groups and kernelSize (or the gradWeight accumulator),
 * and the accumulators it may be given must fit that shape.
 */
import { OpError } from './errors.js';
import { imageAxes, quote, type ShapeField, tensorField } from './fields.js';
import { checkImage, checkImageLike, checkPair, checkVector, checkWeight } from './guards.js';
import type { ConvParams, Pair, Shape } from './types.js';

export interface GradParametersRequest {
  readonly input: Shape;
  readonly gradOutput: Shape;
  readonly kernelSize?: Pair;
  readonly gradWeight?: Shape;
  readonly gradBias?: Shape;
  readonly computeBias: boolean;
}

export interface GradParametersFields {
  readonly input: ShapeField;
  readonly gradOutput: ShapeField;
  readonly kernelSize: Pair | undefined;
  readonly gradWeight: ShapeField | undefined;
  readonly gradBias: ShapeField | undefined;
  readonly computeBias: boolean;
}

/** The 400 rules of grad-parameters' own fields. */
export function readGradParameters(t: GradParametersRequest): GradParametersFields {
  const input = tensorField('input', t.input);
  checkImage(input);
  const gradOutput = tensorField('gradOutput', t.gradOutput);
  checkImageLike(gradOutput, input);
  if (t.kernelSize !== undefined) checkPair('kernelSize', t.kernelSize, 1);
  const gradWeight = t.gradWeight === undefined ? undefined : tensorField('gradWeight', t.gradWeight);
  if (gradWeight) checkWeight(gradWeight);
  const gradBias = t.gradBias === undefined ? undefined : tensorField('gradBias', t.gradBias);
  if (gradBias) checkVector(gradBias);
  if (t.kernelSize === undefined && gradWeight === undefined) {
    throw new OpError(400, 'kernelSize', 'kernelSize is required when gradWeight is not given');
  }
  return { input, gradOutput, kernelSize: t.kernelSize, gradWeight, gradBias, computeBias: t.computeBias };
}

/**
 * The 422 rules of the accumulators; returns the weight's implied shape as the gradWeight
 * result, for the family's shared check to run on.
 */
export function checkAccumulators(
  f: GradParametersFields,
  p: ConvParams,
  kind: 'conv2d' | 'conv-transpose2d',
): { readonly weight: ShapeField; readonly outChannels: number } {
  if (f.gradBias && !f.computeBias) {
    throw new OpError(
      422,
      'gradBias',
      'gradBias was given but computeBias is false: no bias gradient is computed to add into it',
    );
  }
  const { groups } = p;
  const c = imageAxes(f.input).c;
  const cin = f.input.shape[c];
  const cout = f.gradOutput.shape[c];
  for (const [field, what] of [
    [f.input, 'input'],
    [f.gradOutput, 'output'],
  ] as const) {
    if (field.shape[c] % groups !== 0) {
      throw new OpError(422, 'groups', `groups (${groups}) must divide the ${what} channels, ${quote(field, c)}`);
    }
  }
  const { gradWeight, gradBias } = f;
  // readGradParameters made sure one of the two is given. Without kernelSize the kernel is
  // gradWeight's own, so only the channel dimensions can then disagree.
  const kernel = f.kernelSize ?? [gradWeight!.shape[2], gradWeight!.shape[3]];
  const kernelSources = [0, 1].map((i) => `kernelSize[${i}] (${kernel[i]})`);
  const perGroup = (field: ShapeField): string =>
    `${quote(field, c)} / groups (${groups}) = ${field.shape[c] / groups}`;
  const [shape, sources] =
    kind === 'conv-transpose2d'
      ? [
          [cin, cout / groups, ...kernel],
          [quote(f.input, c), perGroup(f.gradOutput), ...kernelSources],
        ]
      : [
          [cout, cin / groups, ...kernel],
          [quote(f.gradOutput, c), perGroup(f.input), ...kernelSources],
        ];
  if (gradWeight) {
    shape.forEach((d, i) => {
      if (gradWeight.shape[i] !== d) {
        throw new OpError(422, gradWeight.at(i), `${quote(gradWeight, i)} must equal ${sources[i]}`);
      }
    });
  }
  if (gradBias && gradBias.shape[0] !== cout) {
    throw new OpError(
      422,
      gradBias.at(0),
      `${quote(gradBias, 0)} must equal the output channels, ${quote(f.gradOutput, c)}`,
    );
  }
  return { weight: tensorField('gradWeight', shape), outChannels: cout };
}
