/**
 * The parse thread's task (src/tensor/off-loop-parse.ts): a large JSON body parsed, checked for
 * forbidden keys, its long base64 decoded, its tensor data read into typed arrays and the whole
 * checked against its route's schema, all off the event loop. A body the schema refuses goes
 * back as its field errors alone: sending its value (200,000 unknown fields, say) back to be
 * refused would cost the main thread what this thread spared it. The buffers go back moved,
 * not copied.
 */
import { Piscina } from 'piscina';
import type { z } from 'zod';
import { collectAfterLargeTask } from '../../workers/collect-after-large-task.js';
import { type FieldErrors, fieldErrors } from '../request-validation.js';
import { opRoutes } from '../routes/op-routes.js';
import { InferenceRequestSchema } from '../v2/schemas.js';
import { JsonRefusal, type JsonRefusalReason, parseCheckedJson } from './checked-json.js';
import { parseJsonBody } from './json-body.js';
import { type BodyKind, packTensorData } from './pack-data.js';

export interface ParseTask {
  readonly bytes: Uint8Array;
  readonly kind: BodyKind;
  /** The /v1 op whose body this is (`conv2d/forward`); /v2 bodies share one schema. */
  readonly op?: string;
}

/** A tensor's data as read, and where its holder sits in the body (its `data` is null in transit). */
export interface PackedInTransit {
  readonly at: readonly (string | number)[];
  readonly values: Float64Array;
  readonly firstBad: number;
}

export type ParseOutcome =
  | {
      readonly value: unknown;
      readonly packed: PackedInTransit[];
      readonly base64: { text: string; bytes: Uint8Array }[];
    }
  | { readonly refused: { readonly reason: JsonRefusalReason; readonly message: string } }
  | { readonly invalid: FieldErrors };

function schemaOf(task: ParseTask): z.ZodType | undefined {
  return task.kind === 'v2' ? InferenceRequestSchema : opRoutes.find((r) => r.op === task.op)?.body;
}

export default function parseTask(task: ParseTask): unknown {
  const { bytes, kind } = task;
  collectAfterLargeTask(bytes.byteLength);
  const body = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let parsed: ReturnType<typeof parseJsonBody>;
  try {
    parsed = parseJsonBody(body, parseCheckedJson);
  } catch (err) {
    if (!(err instanceof JsonRefusal)) throw err;
    return { refused: { reason: err.reason, message: err.message } } satisfies ParseOutcome;
  }
  const { value, decoded } = parsed;
  const packed = packTensorData(value, kind);
  const schema = schemaOf(task);
  const checked = schema?.safeParse(value);
  if (checked && !checked.success)
    return { invalid: fieldErrors(checked.error.issues, value, schema) } satisfies ParseOutcome;

  const inTransit = packed.map(({ at, holder, data }) => {
    holder.data = null;
    return { at, values: data.values, firstBad: data.firstBad };
  });
  const base64 = (decoded?.values ?? []).map((v) => ({
    text: v.text,
    bytes: new Uint8Array(v.bytes.buffer, v.bytes.byteOffset, v.bytes.byteLength),
  }));
  const outcome: ParseOutcome = { value, packed: inTransit, base64 };
  const buffers = new Set<ArrayBuffer>();
  for (const p of inTransit) buffers.add(p.values.buffer as ArrayBuffer);
  for (const b of base64)
    if (b.bytes.byteOffset === 0 && b.bytes.byteLength === b.bytes.buffer.byteLength)
      buffers.add(b.bytes.buffer as ArrayBuffer);
  return Piscina.move({
    [Piscina.transferableSymbol]: [...buffers],
    [Piscina.valueSymbol]: outcome,
  } as unknown as ArrayBuffer);
}
