import { endianness } from 'node:os';
import type { FloatArray } from '../../workers/geometry.js';
import { ProblemError } from '../problems.js';
import type { OutputEncoding } from '../schemas/common.js';
import {
  BYTES_PER_ELEMENT,
  base64Length,
  type Dtype,
  type Element,
  elementCount,
  type ResultTensor,
  type TensorInput,
} from '../schemas/tensor.js';
import { NON_FINITE, PackedData } from '../schemas/tensor-data.js';
import { hasUrlAlphabet, lastGroupMatches } from './canonical-base64.js';
import type { DecodedBase64 } from './json-body.js';

// base64 carries little-endian bytes; typed arrays use the host's order, so a big-endian host
// would need a byte swap this codec does not do.
if (endianness() !== 'LE') throw new Error('convsvc needs a little-endian host');

/** A typed array of `dtype` over a fresh buffer of its own, so it can be moved to a worker. */
export function allocate(dtype: Dtype, length: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

/** `bytes` (already checked against the shape) as a typed array that owns its buffer: a view when it can be, else a copy. */
function ownArray(dtype: Dtype, bytes: Buffer): FloatArray {
  const owned = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length;
  const buffer = owned ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
  return dtype === 'float64' ? new Float64Array(buffer) : new Float32Array(buffer);
}

/**
 * The `byteLength` bytes whose canonical base64 `text` is, in a buffer of their own; null if
 * `text` is not that (src/tensor/canonical-base64.ts: what canonical means, and how it is checked
 * without encoding every byte again).
 */
export function decodeCanonical(text: string, byteLength: number): Buffer | null {
  if (byteLength <= 0 || text.length !== base64Length(byteLength) || hasUrlAlphabet(text)) return null;
  // ASCII only: the decoder reads a character above U+00FF by its low byte ("\u0141" as "A").
  if (Buffer.byteLength(text, 'utf8') !== text.length) return null;
  // Not zeroed: a canonical text writes every byte, and any other is refused.
  const bytes = Buffer.allocUnsafeSlow(byteLength);
  if (bytes.write(text, 'base64') !== byteLength) return null;
  return lastGroupMatches(bytes, text.slice(text.length - 4)) ? bytes : null;
}

/**
 * Decodes a schema-checked request tensor (lengths already match its shape) into a typed array
 * that owns its buffer. base64 is decoded straight into the array's memory, and must be
 * canonical (`decodeCanonical`). A value the body parser already decoded and
 * checked (src/tensor/json-body.ts) is taken from `decoded`; values the parser read off the
 * event loop (PackedData) are copied in. `path` names the field in errors.
 */
export function decodeTensor(t: TensorInput, path: string, decoded?: DecodedBase64 | null): FloatArray {
  const length = elementCount(t.shape);
  if (t.b64 != null) {
    const byteLength = length * BYTES_PER_ELEMENT[t.dtype];
    const known = decoded?.take(t.b64);
    if (known !== undefined) {
      if (known.length === byteLength) return ownArray(t.dtype, known);
    } else {
      const bytes = decodeCanonical(t.b64, byteLength);
      if (bytes !== null) return ownArray(t.dtype, bytes);
    }
    const message = `is not the canonical base64 of ${byteLength} bytes (RFC 4648 alphabet, with padding)`;
    throw new ProblemError('invalid-request', `${path}.b64 ${message}`, [{ path: `${path}.b64`, message }]);
  }
  const out = allocate(t.dtype, length);
  if (t.data instanceof PackedData) {
    // Element by element, as below: each double rounds to float32 as an assignment would.
    out.set(t.data.values);
    return out;
  }
  const data = t.data as readonly Element[];
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    out[i] = typeof v === 'number' ? v : NON_FINITE[v];
  }
  return out;
}

/** Encodes a result for the answer: `data` spells NaN and the infinities as strings (JSON has none). */
export function encodeTensor(values: FloatArray, shape: readonly number[], encoding: OutputEncoding): ResultTensor {
  const dtype: Dtype = values instanceof Float64Array ? 'float64' : 'float32';
  if (values.length !== elementCount(shape) || BYTES_PER_ELEMENT[dtype] !== values.BYTES_PER_ELEMENT) {
    throw new Error(`result of ${values.length} elements does not fit shape [${shape.join(', ')}]`);
  }
  if (encoding === 'base64') {
    return {
      shape: [...shape],
      dtype,
      b64: Buffer.from(values.buffer, values.byteOffset, values.byteLength).toString('base64'),
    };
  }
  const data: Element[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    data[i] = Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
  }
  return { shape: [...shape], dtype, data };
}

/** The encoding a request tensor arrived in. */
export const encodingOf = (t: TensorInput): OutputEncoding => (t.b64 != null ? 'base64' : 'json');
