import { z } from 'zod';

const INT31_MAX = 2 ** 31 - 1;

/** A JSON number with an integer value in [min, 2^31-1] (`2.0` is 2). */
export const int = (min: number) =>
  z
    .number({ error: `must be an integer >= ${min}` })
    .int(`must be an integer >= ${min}`)
    .min(min, `must be >= ${min}`)
    .max(INT31_MAX, `must be <= ${INT31_MAX}`);

/** A pair parameter: `[h, w]`, or one integer meaning both. Routes resolve it with `toPair`. */
export const pair = (min: number, description: string) =>
  z
    .union([int(min), z.array(int(min)).length(2)], { error: `must be an integer >= ${min} or a pair [h, w] of them` })
    .describe(description);

export type PairInput = number | number[];

/** A pair parameter as [h, w]. */
export const toPair = (v: PairInput): readonly [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/**
 * An optional field with a default. `null` means absent (docs/api.md), so both give the default; the
 * default shows in the OpenAPI document.
 */
export const withDefault = <T extends z.ZodType>(schema: T, value: z.output<T>) =>
  schema
    .nullable()
    .default(value as never)
    .transform((v) => (v ?? value) as z.output<T>);

/** An optional field without a default: `null` and absent both become undefined. */
export const optional = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((v) => (v ?? undefined) as z.output<T> | undefined);

/** A tensor shape given as a field of its own (`inputShape`). */
export const ShapeSchema = z.array(int(1)).min(1).max(4);

/** The encoding of every tensor in the answer; by default the request's first tensor's. */
export const OutputEncodingSchema = z
  .enum(['json', 'base64'])
  .describe(
    "Encoding of the result tensors: `json` (a `data` array) or `base64` (`b64`). Defaults to the encoding of the request's first tensor.",
  );
export type OutputEncoding = z.infer<typeof OutputEncodingSchema>;

export const Params = {
  stride: withDefault(pair(1, 'Stride [sH, sW] (or one integer for both).'), 1),
  padding: withDefault(pair(0, 'Zero padding [pH, pW] on each side (or one integer for both).'), 0),
  outputPadding: withDefault(
    pair(
      0,
      'Extra rows/columns [aH, aW] added to one side of the transposed output; each must be smaller than its stride or its dilation.',
    ),
    0,
  ),
  dilation: withDefault(pair(1, 'Kernel dilation [dH, dW] (or one integer for both).'), 1),
  groups: withDefault(int(1).describe('Channel groups; must divide both channel counts.'), 1),
  kernelSize: pair(1, 'Kernel size [kH, kW] (or one integer for both).'),
  outputSize: pair(1, 'Image size [H, W] that the columns are folded back into.'),
  scale: withDefault(z.number().describe('Factor applied to gradWeight and gradBias (THNN `scale`).'), 1),
  computeBias: withDefault(z.boolean().describe('Whether to compute (and return) gradBias.'), true),
  outputEncoding: optional(OutputEncodingSchema),
} as const;
