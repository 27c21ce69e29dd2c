import { z } from 'zod';
import { int } from './common.js';

export const DtypeSchema = z.enum(['float32', 'float64']).describe('Element type; all tensors of one request share it.');
export type Dtype = z.infer<typeof DtypeSchema>;

/** JSON has no NaN or Infinity: as in the protobuf JSON mapping, `data` spells them as strings. */
export const NonFiniteSchema = z.enum(['NaN', 'Infinity', '-Infinity']);
export const ElementSchema = z.union([z.number(), NonFiniteSchema], {
  error: 'must be a number or one of "NaN", "Infinity", "-Infinity"',
});
export type Element = z.infer<typeof ElementSchema>;

export const BYTES_PER_ELEMENT: Readonly<Record<Dtype, number>> = { float32: 4, float64: 8 };

/**
 * Bytes a base64 string of this length and padding decodes to, or -1 when its length cannot be
 * base64. O(1): the characters themselves are checked where the string is decoded (src/tensor),
 * natively, instead of by a second pass over megabytes here.
 */
export function base64ByteLength(b64: string): number {
  if (b64.length % 4 !== 0) return -1;
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return (b64.length / 4) * 3 - padding;
}

/** Product of a shape's dimensions; exact while below 2^53, which any checked limit is. */
export const elementCount = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

const describeShape = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * A tensor in a request: its shape, dtype, and exactly one of `data` (row-major numbers) or `b64`
 * (base64 of the little-endian bytes), whose length must match the shape. Ranks per field are the
 * op's rules (src/ops), not the schema's.
 */
export const TensorSchema = z
  .strictObject({
    shape: z.array(int(1)).min(1).max(4).describe('Dimensions, each an integer >= 1.'),
    dtype: DtypeSchema.nullable()
      .default('float32')
      .transform((v) => v ?? 'float32'),
    data: ElementSchema.array().nullish().describe('Row-major values; give exactly one of `data` and `b64`.'),
    b64: z.string().nullish().describe('Base64 of the row-major little-endian bytes; give exactly one of `data` and `b64`.'),
  })
  .superRefine((t, ctx) => {
    const hasData = t.data !== undefined && t.data !== null;
    const hasB64 = t.b64 !== undefined && t.b64 !== null;
    if (hasData === hasB64) {
      ctx.addIssue({ code: 'custom', path: hasData ? ['b64'] : ['data'], message: 'give exactly one of `data` and `b64`' });
      return;
    }
    const count = elementCount(t.shape);
    if (hasData) {
      const data = t.data!;
      if (data.length !== count) {
        ctx.addIssue({
          code: 'custom',
          path: ['data'],
          message: `has ${data.length} values but shape ${describeShape(t.shape)} holds ${count}`,
        });
        return;
      }
      if (t.dtype === 'float32') {
        for (let i = 0; i < data.length; i++) {
          const v = data[i];
          if (typeof v === 'number' && !Number.isFinite(Math.fround(v))) {
            ctx.addIssue({ code: 'custom', path: ['data', i], message: `${v} is not a finite float32` });
            return;
          }
        }
      }
      return;
    }
    const bytes = base64ByteLength(t.b64!);
    if (bytes < 0) {
      ctx.addIssue({ code: 'custom', path: ['b64'], message: 'is not base64: its length must be a multiple of 4 (RFC 4648, with padding)' });
      return;
    }
    const want = count * BYTES_PER_ELEMENT[t.dtype];
    if (bytes !== want) {
      ctx.addIssue({
        code: 'custom',
        path: ['b64'],
        message: `decodes to ${bytes} bytes but shape ${describeShape(t.shape)} of ${t.dtype} needs ${want}`,
      });
    }
  })
  .meta({ id: 'Tensor', description: 'A dense row-major (NCHW) tensor.' });
export type TensorInput = z.output<typeof TensorSchema>;

/** A tensor in an answer, in the encoding the request asked for. */
export const ResultTensorSchema = z
  .object({
    shape: z.array(z.number().int()),
    dtype: DtypeSchema,
    data: ElementSchema.array().optional(),
    b64: z.string().optional(),
  })
  .meta({ id: 'ResultTensor', description: 'A result tensor: `data` or `b64` per the requested encoding.' });
export type ResultTensor = z.infer<typeof ResultTensorSchema>;
