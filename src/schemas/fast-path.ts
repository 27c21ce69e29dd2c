import type { z } from 'zod';
import * as S from './ops.js';
import { base64Length, BYTES_PER_ELEMENT, elementCount, type Dtype } from './tensor.js';
import { firstBadElement, firstFloat32Overflow } from './tensor-data.js';

/**
 * A plain check of the commonest op bodies, ahead of zod: for the small op, zod's walk of the
 * body (unions, defaults, transforms and refinements per field) was a few microseconds, most of
 * what validation cost. A fast path only ever says "valid, and here is exactly what zod would
 * give" or "ask zod": it returns undefined for anything it is unsure of (an unknown key, a wrong
 * type, PackedData, a value of undefined, any refusal), so every error, and its wording, is
 * still zod's. Its output is built as zod builds it: keys in the schema's order, a default
 * always present, an optional field that is absent left out and one that is null kept as
 * undefined, arrays copied, `data` passed through. test/src/schemas/fast-path.test.ts holds
 * the two to the same answers on generated bodies.
 */

type Parse = (value: unknown) => unknown;
/** What a field gives, or NOT_MINE. `present` says whether the key is in the body. */
type Field = (value: unknown, present: boolean) => unknown;

/** Says "ask zod". */
const NOT_MINE: unique symbol = Symbol('not mine');
/** An optional field that is absent: left out of the output. */
const ABSENT: unique symbol = Symbol('absent');

const INT31_MAX = 2 ** 31 - 1;
const hasOwn = Object.hasOwn;

const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= INT31_MAX;

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** `pair(min)` with a default: an integer, or [h, w] of them (copied); null or absent give the default. */
const pairWithDefault =
  (min: number, value: number): Field =>
  (v, present) => {
    if (!present || v === null) return value;
    if (isInt(v, min)) return v;
    if (Array.isArray(v) && v.length === 2 && isInt(v[0], min) && isInt(v[1], min)) return [v[0], v[1]];
    return NOT_MINE;
  };

/** `int(min)` with a default. */
const intWithDefault =
  (min: number, value: number): Field =>
  (v, present) => {
    if (!present || v === null) return value;
    return isInt(v, min) ? v : NOT_MINE;
  };

/** An optional enum: absent is left out, null is undefined. */
const optionalEnum =
  (values: readonly string[]): Field =>
  (v, present) => {
    if (!present) return ABSENT;
    if (v === null) return undefined;
    return typeof v === 'string' && values.includes(v) ? v : NOT_MINE;
  };

const TENSOR_KEYS = new Set(['shape', 'dtype', 'data', 'b64']);

/** TensorSchema: strict, its shape copied, dtype defaulted, exactly one of data and b64, lengths matching the shape. */
function tensor(v: unknown): unknown {
  if (!isRecord(v)) return NOT_MINE;
  for (const key in v) if (!TENSOR_KEYS.has(key) || v[key] === undefined) return NOT_MINE;
  const shapeIn = v.shape;
  if (!Array.isArray(shapeIn) || shapeIn.length < 1 || shapeIn.length > 4) return NOT_MINE;
  const shape: number[] = [];
  for (let i = 0; i < shapeIn.length; i++) {
    const d: unknown = shapeIn[i];
    if (!isInt(d, 1)) return NOT_MINE;
    shape.push(d);
  }
  const dtypeIn = v.dtype;
  if (dtypeIn !== undefined && dtypeIn !== null && dtypeIn !== 'float32' && dtypeIn !== 'float64') return NOT_MINE;
  const dtype: Dtype = (dtypeIn as Dtype | null | undefined) ?? 'float32';
  const hasDataKey = hasOwn(v, 'data');
  const hasB64Key = hasOwn(v, 'b64');
  const data = v.data;
  const b64 = v.b64;
  const count = elementCount(shape);
  if (data !== undefined && data !== null) {
    if (b64 !== undefined && b64 !== null) return NOT_MINE;
    if (!Array.isArray(data) || firstBadElement(data) >= 0 || data.length !== count) return NOT_MINE;
    if (dtype === 'float32' && firstFloat32Overflow(data) >= 0) return NOT_MINE;
  } else {
    if (typeof b64 !== 'string' || b64.length !== base64Length(count * BYTES_PER_ELEMENT[dtype])) return NOT_MINE;
  }
  // Keys in the schema's order; data and b64 only when the body has them (null kept as null).
  const out: Record<string, unknown> = { shape, dtype };
  if (hasDataKey) out.data = data;
  if (hasB64Key) out.b64 = b64;
  return out;
}

const requiredTensor: Field = (v, present) => (present ? tensor(v) : NOT_MINE);
const optionalTensor: Field = (v, present) => (!present ? ABSENT : v === null ? undefined : tensor(v));

/** A strict object of `fields`, which must be exactly `schema`'s keys, in its order. */
function strictObject(schema: z.ZodObject, fields: Readonly<Record<string, Field>>): Parse {
  const keys = Object.keys(schema.shape);
  const mine = Object.keys(fields);
  if (keys.length !== mine.length || keys.some((k, i) => k !== mine[i])) {
    throw new Error(`the fast path's fields [${mine.join(', ')}] are not the schema's [${keys.join(', ')}]`);
  }
  const known = new Set(keys);
  const checks = keys.map((k) => fields[k]);
  return (body) => {
    if (!isRecord(body)) return undefined;
    for (const key in body) if (!known.has(key) || body[key] === undefined) return undefined;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const present = hasOwn(body, key);
      const value = checks[i](present ? body[key] : undefined, present);
      if (value === NOT_MINE) return undefined;
      if (value !== ABSENT) out[key] = value;
    }
    return out;
  };
}

const conv = {
  stride: pairWithDefault(1, 1),
  padding: pairWithDefault(0, 0),
  dilation: pairWithDefault(1, 1),
  groups: intWithDefault(1, 1),
};
const outputEncoding = optionalEnum(['json', 'base64']);

const FAST_PATHS = new Map<z.ZodType, Parse>([
  [
    S.ConvTranspose2dForwardBody,
    strictObject(S.ConvTranspose2dForwardBody, { input: requiredTensor, weight: requiredTensor, bias: optionalTensor, ...conv, outputPadding: pairWithDefault(0, 0), outputEncoding }),
  ],
  [S.Conv2dForwardBody, strictObject(S.Conv2dForwardBody, { input: requiredTensor, weight: requiredTensor, bias: optionalTensor, ...conv, outputEncoding })],
]);

/** The fast path of `schema`, if it has one: a body's parsed value as zod would give it, or undefined to ask zod. */
export const fastPathOf = (schema: z.ZodType): Parse | undefined => FAST_PATHS.get(schema);
