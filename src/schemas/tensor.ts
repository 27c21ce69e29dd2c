import { z } from 'zod';
import { DTYPES, type Dtype } from '../../workers/geometry.js';
import { int } from './common.js';
import { type Element, ElementSchema, firstFloat32Overflow, TensorDataSchema, valueAt } from './tensor-data.js';

export type { Dtype };
export { type Element, ElementSchema };

export const DtypeSchema = z.enum(DTYPES).describe('Element type; all tensors of one request share it.');

const DEFAULT_DTYPE: Dtype = 'float32';

/** On a parsed tensor whose request left dtype out (or null): errors about its dtype say so. */
const DTYPE_DEFAULTED = Symbol('dtype defaulted');

/**
 * Fills in the default dtype, marking the tensor with a symbol that no serialisation or spread
 * sees (the parsed body is otherwise what the schema documents).
 */
function withDefaultDtype<T extends { dtype?: Dtype | null }>(t: T): T {
  if (t.dtype != null) return t;
  return Object.defineProperty({ ...t, dtype: DEFAULT_DTYPE }, DTYPE_DEFAULTED, { value: true });
}

/** True when the request gave this parsed tensor's dtype itself, false when it took the default. */
export const dtypeGiven = (t: object): boolean => !(DTYPE_DEFAULTED in t);

/** The dtype once `withDefaultDtype` has run (it runs before every later check). */
const dtypeOf = (t: { dtype?: Dtype | null }): Dtype => t.dtype ?? DEFAULT_DTYPE;

export const BYTES_PER_ELEMENT: Readonly<Record<Dtype, number>> = { float32: 4, float64: 8 };

/**
 * Characters of the canonical base64 (RFC 4648, padded) of `bytes` bytes. The schema checks a
 * `b64` string's length against it, in O(1) and without reading a character: the characters and
 * the padding are checked where the string is decoded (src/tensor), natively. (Reading even the
 * last character would make V8 copy a string that the body parser built from pieces.)
 */
export const base64Length = (bytes: number): number => 4 * Math.ceil(bytes / 3);

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
    // Absent here and filled in by `withDefaultDtype`, which remembers that it was absent; the
    // document still shows the default.
    dtype: DtypeSchema.nullish().meta({ default: DEFAULT_DTYPE }),
    data: TensorDataSchema.nullish().describe('Row-major values; give exactly one of `data` and `b64`.'),
    b64: z
      .string()
      .nullish()
      .describe('Base64 of the row-major little-endian bytes; give exactly one of `data` and `b64`.'),
  })
  .overwrite(withDefaultDtype)
  .superRefine((t, ctx) => {
    const hasData = t.data !== undefined && t.data !== null;
    const hasB64 = t.b64 !== undefined && t.b64 !== null;
    if (hasData === hasB64) {
      ctx.addIssue({
        code: 'custom',
        path: hasData ? ['b64'] : ['data'],
        message: 'give exactly one of `data` and `b64`',
      });
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
      const overflow = dtypeOf(t) === 'float32' ? firstFloat32Overflow(data) : -1;
      if (overflow >= 0)
        ctx.addIssue({
          code: 'custom',
          path: ['data', overflow],
          message: `${valueAt(data, overflow)} is not a finite float32`,
        });
      return;
    }
    const want = count * BYTES_PER_ELEMENT[dtypeOf(t)];
    const length = t.b64!.length;
    if (length !== base64Length(want)) {
      ctx.addIssue({
        code: 'custom',
        path: ['b64'],
        message: `has ${length} characters but shape ${describeShape(t.shape)} of ${dtypeOf(t)} is ${want} bytes: ${base64Length(want)} characters of base64 (RFC 4648, with padding)`,
      });
    }
  })
  .meta({ id: 'Tensor', description: 'A dense row-major (NCHW) tensor.' });
/** A parsed request tensor: its dtype always set, the default filled in. */
export type TensorInput = Omit<z.output<typeof TensorSchema>, 'dtype'> & { readonly dtype: Dtype };

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
