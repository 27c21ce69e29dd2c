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

/** One convolution family's words and bodies; its four routes are made from them alike. */
interface ConvFamilyRoutes {
  readonly kind: 'conv-transpose2d' | 'conv2d';
  /** The summaries' subject. */
  readonly noun: string;
  /** The descriptions' first words: the op and what it is in THNN and PyTorch. */
  readonly lead: string;
  readonly passes: typeof ops.conv2d;
  /** forward's result and its size. */
  readonly output: string;
  /** How grad-input comes by the input's size. */
  readonly inputSize: string;
  /** What grad-parameters adds about kernelSize, if anything. */
  readonly kernelSize: string;
  /** How backward names its gradInput. */
  readonly gradInput: string;
  readonly bodies: {
    readonly forward: typeof S.ConvTranspose2dForwardBody | typeof S.Conv2dForwardBody;
    readonly gradInput: typeof S.ConvTranspose2dGradInputBody | typeof S.Conv2dGradInputBody;
    readonly gradParameters: typeof S.ConvTranspose2dGradParametersBody | typeof S.Conv2dGradParametersBody;
    readonly backward: typeof S.ConvTranspose2dBackwardBody | typeof S.Conv2dBackwardBody;
  };
}

const convRoutes = (f: ConvFamilyRoutes) =>
  [
    route({
      op: `${f.kind}/forward`,
      summary: `${f.noun}: forward`,
      description: `${f.lead} (updateOutput). ${f.output}`,
      body: f.bodies.forward,
      answer: S.OutputAnswer,
      tensors: ['input', 'weight', 'bias'],
      plan: (b, limits) =>
        f.passes.forward({ input: b.input.shape, weight: b.weight.shape, bias: b.bias?.shape }, convParams(b), limits),
    }),
    route({
      op: `${f.kind}/grad-input`,
      summary: `${f.noun}: gradient of the input`,
      description: `${f.lead} (updateGradInput): dL/dinput from dL/doutput. ${f.inputSize}`,
      body: f.bodies.gradInput,
      answer: S.GradInputAnswer,
      tensors: ['gradOutput', 'weight'],
      plan: (b, limits) =>
        f.passes.gradInput(
          { gradOutput: b.gradOutput.shape, weight: b.weight.shape, inputShape: b.inputShape },
          convParams(b),
          limits,
        ),
    }),
    route({
      op: `${f.kind}/grad-parameters`,
      summary: `${f.noun}: gradients of weight and bias`,
      description: `${f.lead} (accGradParameters): gradWeight += scale * dL/dweight, gradBias += scale * dL/dbias, accumulated into the given gradWeight / gradBias (zeros when omitted).${f.kernelSize}`,
      body: f.bodies.gradParameters,
      answer: S.GradParametersAnswer,
      tensors: ['input', 'gradOutput', 'gradWeight', 'gradBias'],
      plan: (b, limits) => f.passes.gradParameters(gradParametersShapes(b), convParams(b), limits),
      gradOptions,
    }),
    route({
      op: `${f.kind}/backward`,
      summary: `${f.noun}: all gradients`,
      description: `${f.lead}: ${f.gradInput}, and gradWeight / gradBias scaled by scale (no accumulation), in one request.`,
      body: f.bodies.backward,
      answer: S.BackwardAnswer,
      tensors: ['input', 'gradOutput', 'weight'],
      plan: (b, limits) => f.passes.backward(backwardShapes(b), convParams(b), limits),
      gradOptions,
    }),
  ] as const;

export const opRoutes = [
  ...convRoutes({
    kind: 'conv-transpose2d',
    noun: 'Transposed convolution',
    lead: 'Transposed ("full") convolution, THNN SpatialFullConvolution / torch.nn.functional.conv_transpose2d',
    passes: ops.convTranspose2d,
    output: 'output [N, Cout, Ho, Wo] with Ho = (H-1)*sH - 2*pH + dH*(kH-1) + aH + 1, plus bias per output channel.',
    inputSize:
      'The input size is derived from gradOutput and the params (outputPadding included); a non-whole size is a 422, and inputShape, if given, must equal it.',
    kernelSize: " kernelSize may come from gradWeight's shape.",
    gradInput: 'gradInput',
    bodies: {
      forward: S.ConvTranspose2dForwardBody,
      gradInput: S.ConvTranspose2dGradInputBody,
      gradParameters: S.ConvTranspose2dGradParametersBody,
      backward: S.ConvTranspose2dBackwardBody,
    },
  }),
  ...convRoutes({
    kind: 'conv2d',
    noun: 'Convolution',
    lead: 'Convolution, THNN SpatialConvolutionMM / torch.nn.functional.conv2d',
    passes: ops.conv2d,
    output: 'output [N, Cout, Ho, Wo] with Ho = floor((H + 2*pH - dH*(kH-1) - 1) / sH) + 1, plus bias.',
    inputSize: 'inputShape is required: several input sizes give the same output size.',
    kernelSize: '',
    gradInput: 'gradInput (shaped like input)',
    bodies: {
      forward: S.Conv2dForwardBody,
      gradInput: S.Conv2dGradInputBody,
      gradParameters: S.Conv2dGradParametersBody,
      backward: S.Conv2dBackwardBody,
    },
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
