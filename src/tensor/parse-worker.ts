/**
 * The parse thread's task (src/tensor/off-loop-parse.ts): a large JSON body parsed, checked for
 * forbidden keys, its long base64 decoded and its tensor data read into typed arrays, all off
 * the event loop. The buffers go back moved, not copied.
 */
import { Piscina } from 'piscina';
import { JsonRefusal, parseCheckedJson, type JsonRefusalReason } from './checked-json.js';
import { parseJsonBody } from './json-body.js';
import { packTensorData, type BodyKind, type Packed } from './pack-data.js';

export interface ParseTask {
  readonly bytes: Uint8Array;
  readonly kind: BodyKind;
}

export type ParseOutcome =
  | { readonly value: unknown; readonly packed: Packed[]; readonly base64: { text: string; bytes: Uint8Array }[] }
  | { readonly refused: { readonly reason: JsonRefusalReason; readonly message: string } };

export default function parseTask({ bytes, kind }: ParseTask): unknown {
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let outcome: ParseOutcome;
  try {
    const { value, decoded } = parseJsonBody(body, parseCheckedJson);
    const packed = packTensorData(value, kind);
    const base64 = (decoded?.values ?? []).map((v) => ({ text: v.text, bytes: new Uint8Array(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength) }));
    outcome = { value, packed, base64 };
  } catch (err) {
    if (!(err instanceof JsonRefusal)) throw err;
    return { refused: { reason: err.reason, message: err.message } } satisfies ParseOutcome;
  }
  const buffers = new Set<ArrayBuffer>();
  for (const p of outcome.packed) buffers.add(p.values.buffer as ArrayBuffer);
  for (const b of outcome.base64) if (b.bytes.byteOffset === 0 && b.bytes.byteLength === b.bytes.buffer.byteLength) buffers.add(b.bytes.buffer as ArrayBuffer);
  return Piscina.move({ [Piscina.transferableSymbol]: [...buffers], [Piscina.valueSymbol]: outcome } as unknown as ArrayBuffer);
}
