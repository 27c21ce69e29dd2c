import type { FloatArray } from '../../workers/geometry.js';
import type { OutputEncoding } from '../schemas/common.js';
import { BYTES_PER_ELEMENT, elementCount } from '../schemas/tensor.js';
import { dtypeOf, lengthOf, piecesOf, type Values } from './pieces.js';

/** Elements formatted, or base64 bytes encoded, between two yields to the event loop. */
export const CHUNK_ELEMENTS = 1 << 16;
const CHUNK_BYTES = 3 << 18; // a multiple of 3: base64 pieces join without padding
/** A piece at least this long (a chunk's base64 or numbers) is let through the event loop after. */
const JOIN_CHARS = 1 << 18;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** One result of an op: its name in the answer, its values and its shape. */
export interface AnswerEntry {
  readonly name: string;
  readonly values: Values;
  readonly shape: readonly number[];
}

function formatElement(v: number): string {
  return Number.isFinite(v) ? JSON.stringify(v) : Number.isNaN(v) ? '"NaN"' : v > 0 ? '"Infinity"' : '"-Infinity"';
}

/** `data`'s JSON text, a chunk at a time; non-finite values as the strings docs/api.md names. */
function* dataPieces(values: Values, out: string[]): Generator<void, void, void> {
  let first = true;
  for (const piece of piecesOf(values)) {
    for (let start = 0; start < piece.length; start += CHUNK_ELEMENTS) {
      if (!first) yield;
      const chunk = piece.subarray(start, start + CHUNK_ELEMENTS);
      let finite = true;
      for (let i = 0; i < chunk.length; i++) if (!Number.isFinite(chunk[i])) finite = false;
      const text = finite ? JSON.stringify(Array.from(chunk)).slice(1, -1) : Array.from(chunk, formatElement).join(',');
      out.push(first ? text : `,${text}`);
      first = false;
    }
  }
}

const bytesOf = (a: FloatArray): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * `b64`'s text, a chunk at a time, over the pieces' bytes as if joined: each piece is encoded up
 * to its last whole group of 3 bytes, and the 1-2 bytes left over are encoded together with the
 * start of the next piece, so the text is the joined bytes' base64, padded only at its end.
 */
function* base64Pieces(values: Values, out: string[]): Generator<void, void, void> {
  let carry: Buffer = Buffer.alloc(0);
  let first = true;
  for (const piece of piecesOf(values)) {
    let bytes = bytesOf(piece);
    if (carry.length > 0) {
      const needed = 3 - carry.length;
      const seam = Buffer.concat([carry, bytes.subarray(0, needed)]);
      bytes = bytes.subarray(needed);
      if (seam.length < 3) {
        carry = seam;
        continue;
      }
      out.push(seam.toString('base64'));
    }
    const whole = bytes.length - (bytes.length % 3);
    for (let start = 0; start < whole; start += CHUNK_BYTES) {
      if (!first) yield;
      first = false;
      out.push(bytes.subarray(start, Math.min(whole, start + CHUNK_BYTES)).toString('base64'));
    }
    carry = bytes.subarray(whole);
  }
  if (carry.length > 0) out.push(carry.toString('base64'));
}

/** The answer's text, piece by piece into `pieces`; it yields where the event loop is to be let through. */
function* answerPieces(
  entries: readonly AnswerEntry[],
  encoding: OutputEncoding,
  pieces: string[],
): Generator<void, void, void> {
  for (const [i, { name, values, shape }] of entries.entries()) {
    const dtype = dtypeOf(values);
    const length = lengthOf(values);
    if (
      length !== elementCount(shape) ||
      piecesOf(values).some((p) => p.BYTES_PER_ELEMENT !== BYTES_PER_ELEMENT[dtype])
    ) {
      throw new Error(`result ${name} of ${length} elements does not fit shape [${shape.join(', ')}]`);
    }
    pieces.push(`${i > 0 ? ',' : ''}${JSON.stringify(name)}:{"shape":${JSON.stringify(shape)},"dtype":"${dtype}",`);
    if (encoding === 'base64') {
      pieces.push('"b64":"');
      yield* base64Pieces(values, pieces);
      pieces.push('"}');
    } else {
      pieces.push('"data":[');
      yield* dataPieces(values, pieces);
      pieces.push(']}');
    }
  }
  pieces.push('}');
}

/**
 * The pieces (ASCII throughout) written once into one buffer, yielding after each piece of
 * JOIN_CHARS or more: writing a 5.6 MB answer in one go took the main thread 78 ms under load.
 */
function* joinPieces(pieces: readonly string[], out: Buffer): Generator<void, void, void> {
  let at = 0;
  for (const p of pieces) {
    at += out.write(p, at, 'latin1');
    if (p.length >= JOIN_CHARS) yield;
  }
}

function joinedLength(pieces: readonly string[]): number {
  let length = 0;
  for (const p of pieces) length += p.length;
  return length;
}

function joinNow(pieces: readonly string[]): Buffer {
  const out = Buffer.allocUnsafe(joinedLength(pieces));
  for (const _ of joinPieces(pieces, out));
  return out;
}

async function finishLater(steps: Generator<void, void, void>, pieces: readonly string[]): Promise<Buffer> {
  do await yieldToLoop();
  while (!steps.next().done);
  const out = Buffer.allocUnsafe(joinedLength(pieces));
  for (const _ of joinPieces(pieces, out)) await yieldToLoop();
  return out;
}

/**
 * The JSON text of an op's answer, `{name: {shape, dtype, data | b64}, ...}`, as bytes. The
 * tensors are formatted a chunk at a time with the event loop let through between chunks, so a
 * result of millions of elements never stalls health probes and other requests for seconds; and
 * the text (ASCII throughout) is written once into one buffer, not scanned again by
 * JSON.stringify and re-encoded as UTF-8.
 *
 * An answer of one chunk per tensor (every small op's) is returned at once, not as a promise:
 * a request that waits for nothing takes no turn of the microtask queue. A refusal is always a
 * rejected promise.
 */
export function answerJson(entries: readonly AnswerEntry[], encoding: OutputEncoding): Buffer | Promise<Buffer> {
  const pieces: string[] = ['{'];
  const steps = answerPieces(entries, encoding, pieces);
  try {
    if (steps.next().done) return joinNow(pieces);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  return finishLater(steps, pieces);
}
