import { z } from 'zod';
import { jsonSchemaOf } from './bounded.js';

/**
 * The `data` of a request tensor, checked without a zod issue per element.
 *
 * `z.array(element)` parses every element and reports every bad one, input and all: an array of
 * 4 million bad values made 4 million issues (a heap exhausted, a 100-MB problem document). Here
 * a plain array is read until its first bad element, which alone is reported. A large body's
 * arrays arrive already read, off the event loop (src/tensor/off-loop-parse.ts), as `PackedData`:
 * their values in a Float64Array, or the index of their first bad element. JSON cannot spell
 * either, so a client cannot forge them. The OpenAPI document still shows the JSON array the
 * client sends.
 */

/** Values of a tensor's `data` read by the body parser: exact doubles (NaN and the infinities included). */
export class PackedData {
  constructor(
    readonly values: Float64Array,
    /** Index of the first element that is not a number or a non-finite spelling; -1 if none. */
    readonly firstBad: number = -1,
  ) {}
  get length(): number {
    return this.values.length;
  }
}

export const NON_FINITE: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

export const ELEMENT_MESSAGE = 'must be a number or one of "NaN", "Infinity", "-Infinity"';

/** Whether a parsed JSON value is one element of a tensor's data. */
export const isElement = (v: unknown): v is number | 'NaN' | 'Infinity' | '-Infinity' =>
  typeof v === 'number' || (typeof v === 'string' && Object.hasOwn(NON_FINITE, v));

/** The index of the first element of `values` that is not an element; -1 if none. */
export function firstBadElement(values: readonly unknown[]): number {
  for (let i = 0; i < values.length; i++) if (!isElement(values[i])) return i;
  return -1;
}

/** The element at `i` of data as a number or its spelling. */
export const valueAt = (data: readonly unknown[] | PackedData, i: number): unknown =>
  data instanceof PackedData ? data.values[i] : data[i];

/** The largest float32. A finite double beyond it may still round down to it: Math.fround decides. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The index of the first finite value that float32 cannot hold (it would round to an infinity);
 * -1 if none. Nearly every value is within FLOAT32_MAX, so the loop compares and moves on, one
 * loop per kind of data so that each stays monomorphic: millions of values take milliseconds.
 */
export function firstFloat32Overflow(data: readonly unknown[] | PackedData): number {
  const overflows = (v: number) =>
    Math.abs(v) > FLOAT32_MAX && Math.abs(v) !== Infinity && !Number.isFinite(Math.fround(v));
  if (data instanceof PackedData) {
    const values = data.values;
    for (let i = 0; i < values.length; i++) if (Math.abs(values[i]) > FLOAT32_MAX && overflows(values[i])) return i;
    return -1;
  }
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v === 'number' && overflows(v)) return i;
  }
  return -1;
}

/** JSON has no NaN or Infinity: as in the protobuf JSON mapping, `data` spells them as strings. */
export const ElementSchema = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])], {
  error: ELEMENT_MESSAGE,
});
export type Element = z.infer<typeof ElementSchema>;

/** The JSON Schema of an array of `items`, for a field whose runtime check is not zod's array. */
const arrayMeta = (items: z.ZodType): Record<string, unknown> => ({ type: 'array', items: jsonSchemaOf(items) });

const received = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/**
 * A flat array of elements, checked to its first bad one. Its output is the array, or the
 * parser's PackedData (values already read; a bad element is reported here, at its index).
 */
export const TensorDataSchema = z
  .any()
  .check((ctx) => {
    const v: unknown = ctx.value;
    if (v instanceof PackedData) {
      if (v.firstBad >= 0)
        ctx.issues.push({ code: 'custom', path: [v.firstBad], message: ELEMENT_MESSAGE, input: undefined });
      return;
    }
    if (!Array.isArray(v)) {
      ctx.issues.push({
        code: 'custom',
        message: `Invalid input: expected array, received ${received(v)}`,
        input: undefined,
      });
      return;
    }
    const bad = firstBadElement(v);
    if (bad >= 0) ctx.issues.push({ code: 'custom', path: [bad], message: ELEMENT_MESSAGE, input: undefined });
  })
  .meta(arrayMeta(ElementSchema)) as unknown as z.ZodType<readonly Element[] | PackedData, Element[]>;

/**
 * The Open Inference Protocol's `data`, flat or nested by dimension: its elements are checked
 * where the tensor is (src/v2/tensors.ts), without a zod issue each.
 */
export const NestedDataSchema = z
  .any()
  .check((ctx) => {
    const v: unknown = ctx.value;
    if (!(v instanceof PackedData) && !Array.isArray(v)) {
      ctx.issues.push({
        code: 'custom',
        message: `Invalid input: expected array, received ${received(v)}`,
        input: undefined,
      });
    }
  })
  .meta(arrayMeta(z.unknown())) as unknown as z.ZodType<readonly unknown[] | PackedData, unknown[]>;
