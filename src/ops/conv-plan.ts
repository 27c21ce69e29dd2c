/**
 * The passes of both convolution families, written once over what tells them apart (a
 * ConvFamily), and the plan each ends in: result shapes, scratch, cost and the 413 rules.
 */
import type { ConvGeometry, Window } from '../../workers/geometry.js';
import { OpError } from './errors.js';
import { AXES, imageAxes, imageShape, quote, type ShapeField, shapeField, tensorField } from './fields.js';
import { checkAccumulators, type GradParametersRequest, readGradParameters } from './grad-parameters.js';
import { checkImage, checkImageLike, checkVector, checkWeight } from './guards.js';
import { checkSizes, resultDim } from './limits.js';
import { checkConvParams, toWindow } from './params.js';
import type { Size } from './sizes.js';
import type { ConvParams, ConvPlan, Limits, Shape } from './types.js';

/** The sizes a family's check settles; the rest of a geometry comes from the params. */
export type ConvSizes = Omit<ConvGeometry, keyof Window | 'kind' | 'groups' | 'aH' | 'aW'>;

/** A checked geometry: outputPadding is [0, 0] for conv2d (checkConvParams). */
export function convGeometry(
  kind: ConvGeometry['kind'],
  s: ConvSizes,
  weight: ShapeField,
  p: ConvParams,
): ConvGeometry {
  return {
    kind,
    batch: s.batch,
    groups: p.groups,
    inChannels: s.inChannels,
    outChannels: s.outChannels,
    inH: s.inH,
    inW: s.inW,
    outH: s.outH,
    outW: s.outW,
    aH: p.outputPadding[0],
    aW: p.outputPadding[1],
    ...toWindow([weight.shape[2], weight.shape[3]], p),
  };
}

/**
 * One axis of the output, `size` being the family's formula for it on the input: a 422 below 1;
 * else the result's size, or gradOutput's, which must equal it.
 */
export function outputExtent(input: ShapeField, axis: number, size: Size, gradOutput?: ShapeField): number {
  const h = imageAxes(input).h + axis;
  const name = AXES[axis];
  if (size.value < 1n) {
    // PyTorch words this as the kernel not fitting in the padded input.
    throw new OpError(422, input.at(h), `${quote(input, h)} gives an output ${name} below 1: ${size.formula}`);
  }
  if (!gradOutput) return resultDim('output', size, name);
  if (BigInt(gradOutput.shape[h]) !== size.value) {
    throw new OpError(
      422,
      gradOutput.at(h),
      `${quote(gradOutput, h)} must equal the output ${name} that ${input.at(h)} and the params give: ${size.formula}`,
    );
  }
  return gradOutput.shape[h];
}

export function inputShapeOf(g: ConvGeometry, batched: boolean): Shape {
  return imageShape(batched, g.batch, g.inChannels, g.inH, g.inW);
}

export function outputShapeOf(g: ConvGeometry, batched: boolean): Shape {
  return imageShape(batched, g.batch, g.outChannels, g.outH, g.outW);
}

/**
 * One pass's column buffer (for one group and one sample) and multiply-adds. The GEMM of a
 * transposed convolution runs over the input's grid, a plain convolution's over its output's.
 */
function passCost(g: ConvGeometry): { scratch: number[]; macs: number[] } {
  if (g.kind === 'conv-transpose2d') {
    const scratch = [g.outChannels / g.groups, g.kH, g.kW, g.inH, g.inW];
    return { scratch, macs: [g.batch, g.inChannels, ...scratch] };
  }
  const scratch = [g.inChannels / g.groups, g.kH, g.kW, g.outH, g.outW];
  return { scratch, macs: [g.batch, g.outChannels, ...scratch] };
}

/** `shapes` may omit optional results (gradBias when computeBias is false). */
export function convPlan<S extends Readonly<Record<string, Shape | undefined>>>(
  geometry: ConvGeometry,
  batched: boolean,
  given: readonly (ShapeField | undefined)[],
  shapes: S,
  /** How many GEMM passes the request runs: backward runs grad-input and grad-parameters. */
  passes: number,
  limits: Limits,
): Omit<ConvPlan<never>, 'shapes'> & { readonly shapes: S } {
  const cost = passCost(geometry);
  const sizes = checkSizes(
    {
      given: given.filter((f): f is ShapeField => f !== undefined),
      results: shapes,
      scratch: cost.scratch,
      macs: passes === 1 ? cost.macs : [passes, ...cost.macs],
    },
    limits,
  );
  return { geometry, batched, shapes, ...sizes };
}

/** The tensors of a pass that has its input (every pass but grad-input). */
export interface ConvTensors {
  readonly input: ShapeField;
  readonly weight: ShapeField;
  readonly bias?: ShapeField;
  readonly gradOutput?: ShapeField;
}

/** What tells one convolution family from the other; every pass is written once, over it. */
export interface ConvFamily {
  readonly kind: ConvGeometry['kind'];
  /** Every 422 rule of the family, for whichever tensors a pass has; grad-input's run in `gradInput`. */
  check(t: ConvTensors, p: ConvParams): ConvGeometry;
  /**
   * grad-input's geometry and result shape. `inputShape` is given whenever `needsInputShape`;
   * a family that derives the input's shape checks a given one against it.
   */
  gradInput(
    t: { readonly gradOutput: ShapeField; readonly weight: ShapeField; readonly inputShape?: ShapeField },
    p: ConvParams,
    batched: boolean,
  ): { readonly geometry: ConvGeometry; readonly gradInput: Shape };
  /** True when several input sizes give one output size, so grad-input must be told which. */
  readonly needsInputShape: boolean;
}

type GradParametersResults = ConvPlan<'gradWeight' | 'gradBias', 'gradBias'>;
type BackwardResults = ConvPlan<'gradInput' | 'gradWeight' | 'gradBias', 'gradBias'>;

/**
 * A family's four passes. Each checks its own fields (400), then runs the family's `check` all
 * passes share (422), then the size limits (413).
 */
export function convPasses(family: ConvFamily) {
  const { kind } = family;
  return {
    forward(t: { input: Shape; weight: Shape; bias?: Shape }, p: ConvParams, limits: Limits): ConvPlan<'output'> {
      const input = tensorField('input', t.input);
      checkImage(input);
      const weight = tensorField('weight', t.weight);
      checkWeight(weight);
      const bias = t.bias === undefined ? undefined : tensorField('bias', t.bias);
      if (bias) checkVector(bias);
      checkConvParams(p, kind);
      const geometry = family.check({ input, weight, bias }, p);
      const batched = input.shape.length === 4;
      return convPlan(
        geometry,
        batched,
        [input, weight, bias],
        { output: outputShapeOf(geometry, batched) },
        1,
        limits,
      );
    },

    gradInput(
      t: { gradOutput: Shape; weight: Shape; inputShape?: Shape },
      p: ConvParams,
      limits: Limits,
    ): ConvPlan<'gradInput'> {
      const gradOutput = tensorField('gradOutput', t.gradOutput);
      checkImage(gradOutput);
      const weight = tensorField('weight', t.weight);
      checkWeight(weight);
      if (t.inputShape === undefined && family.needsInputShape) {
        throw new OpError(
          400,
          'inputShape',
          `inputShape is required: several input sizes give the same ${kind} output size`,
        );
      }
      const inputShape = t.inputShape === undefined ? undefined : shapeField('inputShape', t.inputShape);
      if (inputShape) checkImageLike(inputShape, gradOutput);
      checkConvParams(p, kind);
      const batched = gradOutput.shape.length === 4;
      const { geometry, gradInput } = family.gradInput({ gradOutput, weight, inputShape }, p, batched);
      return convPlan(geometry, batched, [gradOutput, weight], { gradInput }, 1, limits);
    },

    gradParameters(t: GradParametersRequest, p: ConvParams, limits: Limits): GradParametersResults {
      const f = readGradParameters(t);
      checkConvParams(p, kind);
      const { weight, outChannels } = checkAccumulators(f, p, kind);
      const geometry = family.check({ input: f.input, weight, gradOutput: f.gradOutput }, p);
      const shapes: GradParametersResults['shapes'] = t.computeBias
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
    },

    backward(
      t: { input: Shape; gradOutput: Shape; weight: Shape; computeBias: boolean },
      p: ConvParams,
      limits: Limits,
    ): BackwardResults {
      const input = tensorField('input', t.input);
      checkImage(input);
      const gradOutput = tensorField('gradOutput', t.gradOutput);
      checkImageLike(gradOutput, input);
      const weight = tensorField('weight', t.weight);
      checkWeight(weight);
      checkConvParams(p, kind);
      const geometry = family.check({ input, weight, gradOutput }, p);
      const gradients = { gradInput: [...input.shape], gradWeight: [...weight.shape] };
      const shapes: BackwardResults['shapes'] = t.computeBias
        ? { ...gradients, gradBias: [geometry.outChannels] }
        : gradients;
      return convPlan(geometry, input.shape.length === 4, [input, gradOutput, weight], shapes, 2, limits);
    },
  };
}
