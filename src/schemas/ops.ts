import { z } from 'zod';
import { optional, Params, ShapeSchema } from './common.js';
import { ResultTensorSchema, TensorSchema } from './tensor.js';

/**
 * Request and answer bodies of every op route (docs/api.md, "Ops"). Each body is strict: an unknown
 * field is a 400, since it is usually a typo.
 */

const tensor = (description: string) => TensorSchema.describe(description);
const optionalTensor = (description: string) => optional(TensorSchema).describe(description);

const windowParams = { stride: Params.stride, padding: Params.padding, dilation: Params.dilation };
const convParams = { ...windowParams, groups: Params.groups };
const transposedParams = { ...convParams, outputPadding: Params.outputPadding };
const gradParamsFields = {
  scale: Params.scale,
  computeBias: Params.computeBias,
};

const T = {
  input: 'Input [N, Cin, H, W] or unbatched [Cin, H, W].',
  bias: 'Bias [Cout]; omitted or null for none.',
  gradOutput: 'dL/doutput [N, Cout, Ho, Wo] (unbatched if the input was).',
  gradWeight: 'Current gradWeight to accumulate into (THNN beta = 1); zeros when omitted.',
  gradBias: 'Current gradBias to accumulate into; only with computeBias.',
  kernelSize: 'Kernel size [kH, kW]; may be omitted when gradWeight is given (they must agree).',
} as const;

const example = (body: Record<string, unknown>) => ({ examples: [body] });
const small = (shape: number[], data: number[]) => ({ shape, dtype: 'float32', data });

type Example = Record<string, unknown>;

/**
 * The four bodies of one conv family: they differ only in the weight's layout, the family's
 * parameters, whether grad-input needs the input's shape, and their examples.
 */
function convBodies<P extends z.ZodRawShape, I extends z.ZodType>(family: {
  readonly weight: string;
  readonly params: P;
  readonly inputShape: I;
  readonly examples: { forward: Example; gradInput: Example; gradParameters: Example; backward: Example };
}) {
  const { params, examples } = family;
  const weight = tensor(family.weight);
  const outputEncoding = Params.outputEncoding;
  return {
    forward: z
      .strictObject({ input: tensor(T.input), weight, bias: optionalTensor(T.bias), ...params, outputEncoding })
      .meta(example(examples.forward)),
    gradInput: z
      .strictObject({
        gradOutput: tensor(T.gradOutput),
        weight,
        inputShape: family.inputShape,
        ...params,
        outputEncoding,
      })
      .meta(example(examples.gradInput)),
    gradParameters: z
      .strictObject({
        input: tensor(T.input),
        gradOutput: tensor(T.gradOutput),
        kernelSize: optional(Params.kernelSize).describe(T.kernelSize),
        gradWeight: optionalTensor(T.gradWeight),
        gradBias: optionalTensor(T.gradBias),
        ...params,
        ...gradParamsFields,
        outputEncoding,
      })
      .meta(example(examples.gradParameters)),
    backward: z
      .strictObject({
        input: tensor(T.input),
        gradOutput: tensor(T.gradOutput),
        weight,
        ...params,
        ...gradParamsFields,
        outputEncoding,
      })
      .meta(example(examples.backward)),
  };
}

const transposed = convBodies({
  weight: 'Weight [Cin, Cout/groups, kH, kW].',
  params: transposedParams,
  inputShape: optional(ShapeSchema).describe(
    'Expected input shape; checked against the one derived from gradOutput and the params.',
  ),
  examples: {
    forward: {
      input: small([1, 1, 2, 2], [1, 2, 3, 4]),
      weight: small([1, 1, 3, 3], [1, 1, 1, 1, 1, 1, 1, 1, 1]),
      stride: 2,
      padding: 1,
      outputPadding: 1,
    },
    gradInput: {
      gradOutput: small([1, 1, 3, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1]),
      weight: small([1, 1, 2, 2], [1, 2, 3, 4]),
      stride: 1,
    },
    gradParameters: {
      input: small([1, 1, 2, 2], [1, 2, 3, 4]),
      gradOutput: small([1, 1, 3, 3], [1, 1, 1, 1, 1, 1, 1, 1, 1]),
      kernelSize: 2,
      scale: 0.5,
    },
    backward: {
      input: small([1, 1, 2, 2], [1, 2, 3, 4]),
      gradOutput: small([1, 1, 3, 3], [1, 1, 1, 1, 1, 1, 1, 1, 1]),
      weight: small([1, 1, 2, 2], [1, 0, 0, 1]),
    },
  },
});

const plain = convBodies({
  weight: 'Weight [Cout, Cin/groups, kH, kW].',
  params: convParams,
  inputShape: ShapeSchema.describe(
    'Shape of the input [N, Cin, H, W] (or [Cin, H, W]); required, since several input sizes give the same output size.',
  ),
  examples: {
    forward: {
      input: small([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]),
      weight: small([1, 1, 2, 2], [1, 0, 0, -1]),
      bias: small([1], [0.5]),
    },
    gradInput: {
      gradOutput: small([1, 1, 2, 2], [1, 1, 1, 1]),
      weight: small([1, 1, 2, 2], [1, 0, 0, -1]),
      inputShape: [1, 1, 3, 3],
    },
    gradParameters: {
      input: small([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]),
      gradOutput: small([1, 1, 2, 2], [1, 1, 1, 1]),
      kernelSize: 2,
    },
    backward: {
      input: small([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]),
      gradOutput: small([1, 1, 2, 2], [1, 1, 1, 1]),
      weight: small([1, 1, 2, 2], [1, 0, 0, -1]),
    },
  },
});

export const ConvTranspose2dForwardBody = transposed.forward;
export const ConvTranspose2dGradInputBody = transposed.gradInput;
export const ConvTranspose2dGradParametersBody = transposed.gradParameters;
export const ConvTranspose2dBackwardBody = transposed.backward;
export const Conv2dForwardBody = plain.forward;
export const Conv2dGradInputBody = plain.gradInput;
export const Conv2dGradParametersBody = plain.gradParameters;
export const Conv2dBackwardBody = plain.backward;

export const Im2colBody = z
  .strictObject({
    input: tensor('Image [N, C, H, W] or unbatched [C, H, W].'),
    kernelSize: Params.kernelSize,
    ...windowParams,
    outputEncoding: Params.outputEncoding,
  })
  .meta(example({ input: small([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]), kernelSize: 2 }));

export const Col2imBody = z
  .strictObject({
    columns: tensor('Columns [N, C*kH*kW, L] or unbatched [C*kH*kW, L], L the number of window positions.'),
    outputSize: Params.outputSize,
    kernelSize: Params.kernelSize,
    ...windowParams,
    outputEncoding: Params.outputEncoding,
  })
  .meta(
    example({
      columns: small([1, 4, 4], [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]),
      outputSize: 3,
      kernelSize: 2,
    }),
  );

const result = (description: string) => ResultTensorSchema.describe(description);

export const OutputAnswer = z
  .object({ output: result('The result [N, C, H, W] (unbatched if the input was).') })
  .meta({ id: 'OutputAnswer' });
export const GradInputAnswer = z
  .object({ gradInput: result('dL/dinput, shaped like the input.') })
  .meta({ id: 'GradInputAnswer' });
export const GradParametersAnswer = z
  .object({
    gradWeight: result('dL/dweight (scaled, plus the given gradWeight), shaped like the weight.'),
    gradBias: result('dL/dbias [Cout] (scaled, plus the given gradBias); only when computeBias.').optional(),
  })
  .meta({ id: 'GradParametersAnswer' });
export const BackwardAnswer = z
  .object({
    gradInput: result('dL/dinput, shaped like the input.'),
    gradWeight: result('scale * dL/dweight, shaped like the weight.'),
    gradBias: result('scale * dL/dbias [Cout]; only when computeBias.').optional(),
  })
  .meta({ id: 'BackwardAnswer' });
export const ColumnsAnswer = z
  .object({ columns: result('Columns [N, C*kH*kW, L] (unbatched if the input was).') })
  .meta({ id: 'ColumnsAnswer' });
