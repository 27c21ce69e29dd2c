import type { FloatArray } from '../../workers/geometry.js';
import type { OutputEncoding } from '../schemas/common.js';
import { BYTES_PER_ELEMENT, elementCount, type Dtype } from '../schemas/tensor.js';

/** Elements formatted, or base64 bytes encoded, between two yields to the event loop. */
export const CHUNK_ELEMENTS = 1 << 16;
const CHUNK_BYTES = 3 << 18; // a multiple of 3: base64 pieces join without padding

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One result of an op: its name in the answer, its values and its shape. */
export interface AnswerEntry {
  readonly name: string;
  readonly values: FloatArray;
  readonly shape: readonly number[];
}

const dtypeOf = (values: FloatArray): Dtype => (values instanceof Float64Array ? 'float64' : 'float32');

function formatElement(v: number): string {
  return Number.isFinite(v) ? JSON.stringify(v) : Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

/** `data`'s JSON text, a chunk at a time; non-finite values as the strings API.md names. */
async function dataPieces(values: FloatArray, out: string[]): Promise<void> {
  for (let start = 0; start < values.length; start += CHUNK_ELEMENTS) {
    if (start > 0) await yieldToLoop();
    const chunk = values.subarray(start, start + CHUNK_ELEMENTS);
    let finite = true;
    for (let i = 0; i < chunk.length; i++) if (!Number.isFinite(chunk[i])) finite = false;
    const text = finite ? JSON.stringify(Array.from(chunk)).slice(1, -1) : Array.from(chunk, formatElement).join(',');
    out.push(start === 0 ? text : `,${text}`);
  }
}

/** `b64`'s text, a chunk at a time. */
async function base64Pieces(values: FloatArray, out: string[]): Promise<void> {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  for (let start = 0; start < bytes.length; start += CHUNK_BYTES) {
    if (start > 0) await yieldToLoop();
    out.push(bytes.subarray(start, start + CHUNK_BYTES).toString('base64'));
  }
}

/**
 * The JSON text of an op's answer, `{name: {shape, dtype, data | b64}, ...}`, as bytes. The
 * tensors are formatted a chunk at a time with the event loop let through between chunks, so a
 * result of millions of elements never stalls health probes and other requests for seconds; and
 * the text (ASCII throughout) is written once into one buffer, not scanned again by
 * JSON.stringify and re-encoded as UTF-8.
 */
export async function answerJson(entries: readonly AnswerEntry[], encoding: OutputEncoding): Promise<Buffer> {
  const pieces: string[] = ['{'];
  for (const [i, { name, values, shape }] of entries.entries()) {
    const dtype = dtypeOf(values);
    if (values.length !== elementCount(shape) || BYTES_PER_ELEMENT[dtype] !== values.BYTES_PER_ELEMENT) {
      throw new Error(`result ${name} of ${values.length} elements does not fit shape [${shape.join(', ')}]`);
    }
    pieces.push(`${i > 0 ? ',' : ''}${JSON.stringify(name)}:{"shape":${JSON.stringify(shape)},"dtype":"${dtype}",`);
    if (encoding === 'base64') {
      pieces.push('"b64":"');
      await base64Pieces(values, pieces);
      pieces.push('"}');
    } else {
      pieces.push('"data":[');
      await dataPieces(values, pieces);
      pieces.push(']}');
    }
  }
  pieces.push('}');
  let length = 0;
  for (const p of pieces) length += p.length;
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for (const p of pieces) at += out.write(p, at, 'latin1');
  return out;
}
