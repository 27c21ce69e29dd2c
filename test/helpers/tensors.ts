/** Moving API tensors between their two encodings, as a client would. */

export interface JsonTensor {
  shape: readonly number[];
  dtype?: 'float32' | 'float64';
  data?: readonly (number | string)[];
  b64?: string;
}

const TENSOR_FIELDS = ['input', 'weight', 'bias', 'gradOutput', 'gradWeight', 'gradBias', 'columns'] as const;

const SPECIAL: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/** A tensor's values as the typed array of its dtype, from either encoding. */
export function readTensor(t: JsonTensor): Float32Array | Float64Array {
  const Ctor = t.dtype === 'float64' ? Float64Array : Float32Array;
  if (t.b64 !== undefined) {
    const bytes = Buffer.from(t.b64, 'base64');
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return new Ctor(copy.buffer);
  }
  return Ctor.from((t.data ?? []).map((v) => (typeof v === 'number' ? v : SPECIAL[v])));
}

/** The same tensor with its values as base64 of the little-endian bytes. */
export function toBase64(t: JsonTensor): JsonTensor {
  const values = readTensor(t);
  return {
    shape: t.shape,
    dtype: t.dtype ?? 'float32',
    b64: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64'),
  };
}

/** A request body with every tensor field re-encoded as base64. */
export function withBase64Tensors<B extends object>(body: B): B {
  const out = { ...body } as Record<string, unknown>;
  for (const f of TENSOR_FIELDS) if (out[f] != null) out[f] = toBase64(out[f] as JsonTensor);
  return out as B;
}

/** A tensor of `shape` filled from a seeded generator, in JSON form. */
export function randomTensor(shape: readonly number[], dtype: 'float32' | 'float64' = 'float32', seed = 1): JsonTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  let s = seed >>> 0;
  const data: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = dtype === 'float32' ? Math.fround(s / 2 ** 31 - 1) : s / 2 ** 31 - 1;
  }
  return { shape, dtype, data };
}
