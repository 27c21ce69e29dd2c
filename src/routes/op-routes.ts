import type { z } from 'zod';
import type { OpName, ResultName } from '../../workers/tasks.js';
import * as ops from '../ops/index.js';
import type { ConvParams, Limits, Pair, Plan, Shape, WindowParams } from '../ops/types.js';
import { type PairInput, toPair } from '../schemas/common.js';
import * as S from '../schemas/ops.js';

/** Request fields that carry tensors, in the order the API lists them. */
export type TensorField = 'input' | 'gradOutput' | 'columns' | 'weight' | 'bias' | 'gradWeight' | 'gradBias';

/** What a route needs of any op's plan: the geometry for the worker and the results' shapes. */
export type RoutePlan = Omit<Plan<unknown, never>, 'shapes'> & {
  readonly shapes: Readonly<Partial<Record<ResultName, Shape>>>;
};

/** One op route: its contract (schemas, words for the docs) and how to plan it from a parsed body. */
export interface OpRoute<B extends z.ZodType = z.ZodType> {
  readonly op: OpName;
  readonly summary: string;
  readonly description: string;
  readonly body: B;
  readonly answer: z.ZodType;
  /** Tensor fields; the first present one sets the answer's default encoding. */
  readonly tensors: readonly TensorField[];
  plan(body: z.output<B>, limits: Limits): RoutePlan;
  /** scale and computeBias, for the passes that take them. */
  gradOptions?(body: z.output<B>): { scale: number; computeBias: boolean };
}

const NO_PADDING: Pair = [0, 0];

const convParams = (b: {
  stride: PairInput;
  padding: PairInput;
  dilation: PairInput;
  groups: number;
  outputPadding?: PairInput;
}): ConvParams => ({
  stride: toPair(b.stride),
  padding: toPair(b.padding),
  dilation: toPair(b.dilation),
  groups: b.groups,
  outputPadding: b.outputPadding === undefined ? NO_PADDING : toPair(b.outputPadding),
});

const windowParams = (b: {
  kernelSize: PairInput;
  stride: PairInput;
  padding: PairInput;
  dilation: PairInput;
}): WindowParams => ({
  kernelSize: toPair(b.kernelSize),
  stride: toPair(b.stride),
  padding: toPair(b.padding),
  dilation: toPair(b.dilation),
});

const optionalPair = (v: PairInput | undefined): Pair | undefined => (v === undefined ? undefined : toPair(v));

const gradOptions = (b: { scale: number; computeBias: boolean }) => ({ scale: b.scale, computeBias: b.computeBias });

type Shaped = { readonly shape: Shape };

/** What a grad-parameters plan reads of its body (both conv families take the same fields). */
const gradParametersShapes = (b: {
  input: Shaped;
  gradOutput: Shaped;
  kernelSize?: PairInput;
  gradWeight?: Shaped;
  gradBias?: Shaped;
  computeBias: boolean;
}) => ({
  input: b.input.shape,
  gradOutput: b.gradOutput.shape,
  kernelSize: optionalPair(b.kernelSize),
  gradWeight: b.gradWeight?.shape,
  gradBias: b.gradBias?.shape,
  computeBias: b.computeBias,
});

/** What a backward plan reads of its body. */
const backwardShapes = (b: { input: Shaped; gradOutput: Shaped; weight: Shaped; computeBias: boolean }) => ({
  input: b.input.shape,
  gradOutput: b.gradOutput.shape,
  weight: b.weight.shape,
  computeBias: b.computeBias,
});

/** Declared one by one so each keeps its body's type; `opRoutes` lists them for registration. */
const route = <B extends z.ZodType>(r: OpRoute<B>): OpRoute<B> => r;

const transposed =
  'Transposed ("full") convolution, THNN SpatialFullConvolution / torch.nn.functional.conv_transpose2d';
const plain = 'Convolution, THNN SpatialConvolutionMM / torch.nn.functional.conv2d';

export const opRoutes = [
  route({
    op: 'conv-transpose2d/forward',
    summary: 'Transposed convolution: forward',
    description: `${transposed} (updateOutput). output [N, Cout, Ho, Wo] with Ho = (H-1)*sH - 2*pH + dH*(kH-1) + aH + 1, plus bias per output channel.`,
    body: S.ConvTranspose2dForwardBody,
    answer: S.OutputAnswer,
    tensors: ['input', 'weight', 'bias'],
    plan: (b, limits) =>
      ops.convTranspose2d.forward(
        { input: b.input.shape, weight: b.weight.shape, bias: b.bias?.shape },
        convParams(b),
        limits,
      ),
  }),
  route({
    op: 'conv-transpose2d/grad-input',
    summary: 'Transposed convolution: gradient of the input',
    description: `${transposed} (updateGradInput): dL/dinput from dL/doutput. The input size is derived from gradOutput and the params (outputPadding included); a non-whole size is a 422, and inputShape, if given, must equal it.`,
    body: S.ConvTranspose2dGradInputBody,
    answer: S.GradInputAnswer,
    tensors: ['gradOutput', 'weight'],
    plan: (b, limits) =>
      ops.convTranspose2d.gradInput(
        { gradOutput: b.gradOutput.shape, weight: b.weight.shape, inputShape: b.inputShape },
        convParams(b),
        limits,
      ),
  }),
  route({
    op: 'conv-transpose2d/grad-parameters',
    summary: 'Transposed convolution: gradients of weight and bias',
    description: `${transposed} (accGradParameters): gradWeight += scale * dL/dweight, gradBias += scale * dL/dbias, accumulated into the given gradWeight / gradBias (zeros when omitted). kernelSize may come from gradWeight's shape.`,
    body: S.ConvTranspose2dGradParametersBody,
    answer: S.GradParametersAnswer,
    tensors: ['input', 'gradOutput', 'gradWeight', 'gradBias'],
    plan: (b, limits) => ops.convTranspose2d.gradParameters(gradParametersShapes(b), convParams(b), limits),
    gradOptions,
  }),
  route({
    op: 'conv-transpose2d/backward',
    summary: 'Transposed convolution: all gradients',
    description: `${transposed}: gradInput, and gradWeight / gradBias scaled by scale (no accumulation), in one request.`,
    body: S.ConvTranspose2dBackwardBody,
    answer: S.BackwardAnswer,
    tensors: ['input', 'gradOutput', 'weight'],
    plan: (b, limits) => ops.convTranspose2d.backward(backwardShapes(b), convParams(b), limits),
    gradOptions,
  }),
  route({
    op: 'conv2d/forward',
    summary: 'Convolution: forward',
    description: `${plain} (updateOutput). output [N, Cout, Ho, Wo] with Ho = floor((H + 2*pH - dH*(kH-1) - 1) / sH) + 1, plus bias.`,
    body: S.Conv2dForwardBody,
    answer: S.OutputAnswer,
    tensors: ['input', 'weight', 'bias'],
    plan: (b, limits) =>
      ops.conv2d.forward({ input: b.input.shape, weight: b.weight.shape, bias: b.bias?.shape }, convParams(b), limits),
  }),
  route({
    op: 'conv2d/grad-input',
    summary: 'Convolution: gradient of the input',
    description: `${plain} (updateGradInput): dL/dinput from dL/doutput. inputShape is required: several input sizes give the same output size.`,
    body: S.Conv2dGradInputBody,
    answer: S.GradInputAnswer,
    tensors: ['gradOutput', 'weight'],
    plan: (b, limits) =>
      ops.conv2d.gradInput(
        { gradOutput: b.gradOutput.shape, weight: b.weight.shape, inputShape: b.inputShape },
        convParams(b),
        limits,
      ),
  }),
  route({
    op: 'conv2d/grad-parameters',
    summary: 'Convolution: gradients of weight and bias',
    description: `${plain} (accGradParameters): gradWeight += scale * dL/dweight, gradBias += scale * dL/dbias, accumulated into the given gradWeight / gradBias (zeros when omitted).`,
    body: S.Conv2dGradParametersBody,
    answer: S.GradParametersAnswer,
    tensors: ['input', 'gradOutput', 'gradWeight', 'gradBias'],
    plan: (b, limits) => ops.conv2d.gradParameters(gradParametersShapes(b), convParams(b), limits),
    gradOptions,
  }),
  route({
    op: 'conv2d/backward',
    summary: 'Convolution: all gradients',
    description: `${plain}: gradInput (shaped like input), and gradWeight / gradBias scaled by scale (no accumulation), in one request.`,
    body: S.Conv2dBackwardBody,
    answer: S.BackwardAnswer,
    tensors: ['input', 'gradOutput', 'weight'],
    plan: (b, limits) => ops.conv2d.backward(backwardShapes(b), convParams(b), limits),
    gradOptions,
  }),
  route({
    op: 'im2col',
    summary: 'im2col (torch unfold)',
    description:
      'Extracts every kernel window of the image into a column: columns [N, C*kH*kW, L], row c holding channel c/(kH*kW) at kernel offset ((c/kW)%kH, c%kW); padding reads as 0. This is torch.nn.functional.unfold.',
    body: S.Im2colBody,
    answer: S.ColumnsAnswer,
    tensors: ['input'],
    plan: (b, limits) => ops.columns.im2col({ input: b.input.shape }, windowParams(b), limits),
  }),
  route({
    op: 'col2im',
    summary: 'col2im (torch fold)',
    description:
      "im2col's adjoint: sums every column entry back into the pixel it came from (overlaps add up) in an image of outputSize. This is torch.nn.functional.fold.",
    body: S.Col2imBody,
    answer: S.OutputAnswer,
    tensors: ['columns'],
    plan: (b, limits) =>
      ops.columns.col2im({ columns: b.columns.shape, outputSize: toPair(b.outputSize) }, windowParams(b), limits),
  }),
  // biome-ignore lint/suspicious/noExplicitAny: each route's plan takes its own body type; a table of them can only be checked against OpRoute<any> (plan's parameter is contravariant)
] as const satisfies readonly OpRoute<any>[];
