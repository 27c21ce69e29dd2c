import { NON_FINITE, PackedData } from '../schemas/tensor-data.js';

/**
 * The `data` arrays of a parsed body read into Float64Arrays, in the parse worker: zod and the
 * decoder on the main thread then see one typed array per tensor, not millions of elements
 * (src/schemas/tensor-data.ts). Only the places the API puts tensor data are read; anything else
 * is left for the schema to judge.
 */

/** Which API's body: /v1 has tensors as top-level fields, /v2 as `inputs[i]`, whose data may nest by dimension. */
export type BodyKind = 'v1' | 'v2';

/** Arrays nest at most this deep in /v2 data (one level per dimension); /v1 data is flat. */
const MAX_DEPTH: Readonly<Record<BodyKind, number>> = { v1: 1, v2: 4 };

/** One tensor's data, read: the object that holds it, and where that sits in the body. */
export interface Packed {
  readonly at: readonly (string | number)[];
  readonly holder: Record<string, unknown>;
  readonly data: PackedData;
}

/**
 * `data`'s elements (arrays within it descended while less than `maxDepth` deep) as doubles, up
 * to the first one that is neither a number nor a spelling of NaN or an infinity.
 */
export function readData(data: readonly unknown[], maxDepth: number): { values: Float64Array; firstBad: number } {
  // Flat data (all of /v1's) fills exactly data.length values; nested data grows the array.
  let out = new Float64Array(data.length);
  let n = 0;
  let firstBad = -1;
  const put = (v: number) => {
    if (n === out.length) {
      const grown = new Float64Array(Math.max(16, out.length * 2));
      grown.set(out);
      out = grown;
    }
    out[n++] = v;
  };
  const walk = (values: readonly unknown[], depth: number): boolean => {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v === 'number') put(v);
      else if (typeof v === 'string' && Object.hasOwn(NON_FINITE, v)) put(NON_FINITE[v]);
      else if (Array.isArray(v) && depth < maxDepth) {
        if (!walk(v, depth + 1)) return false;
      } else {
        firstBad = n;
        return false;
      }
    }
    return true;
  };
  walk(data, 1);
  return { values: n === out.length ? out : out.slice(0, n), firstBad };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The objects of a body that hold a tensor's `data`, with where each sits. */
function holders(body: unknown, kind: BodyKind): [readonly (string | number)[], Record<string, unknown>][] {
  if (!isObject(body)) return [];
  if (kind === 'v1')
    return Object.keys(body).flatMap((k) => (isObject(body[k]) ? [[[k], body[k] as Record<string, unknown>]] : []));
  const inputs = body.inputs;
  if (!Array.isArray(inputs)) return [];
  return inputs.flatMap((t, i) => (isObject(t) ? [[['inputs', i], t]] : []));
}

/** Reads the tensor data of `body` in place: each `data` array becomes its PackedData. */
export function packTensorData(body: unknown, kind: BodyKind): Packed[] {
  const packed: Packed[] = [];
  for (const [at, holder] of holders(body, kind)) {
    if (!Object.hasOwn(holder, 'data') || !Array.isArray(holder.data)) continue;
    const { values, firstBad } = readData(holder.data, MAX_DEPTH[kind]);
    holder.data = new PackedData(values, firstBad);
    packed.push({ at, holder, data: holder.data as PackedData });
  }
  return packed;
}
