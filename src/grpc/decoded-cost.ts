import type { Field, Type } from 'protobufjs';

/**
 * What a message will hold once protobufjs has decoded it, told from its wire bytes before it is
 * decoded. protobufjs builds an object for every message, string and bytes value and an array
 * slot for every repeated number, however few bytes each took on the wire: a ModelInfer message
 * of 7.6 MiB of empty `inputs` entries (2 bytes each) took the process from 137 to 1,522 MiB of
 * RSS before its 16-input limit could refuse it, and one of 64 MiB would pass V8's heap limit and
 * end the process. Walked here first, such a message is refused unread, at the cost of one pass
 * over its bytes.
 */

/** A decoded message, string or Buffer view: V8's object header and the property or slot that holds it, at least. */
export const OBJECT_BYTES = 64;
/** A number or boolean in a repeated field's array. */
export const SLOT_BYTES = 8;

const VARINT = 0;
const FIXED64 = 1;
const DELIMITED = 2;
const FIXED32 = 5;

const FIXED32_TYPES = new Set(['float', 'fixed32', 'sfixed32']);
const FIXED64_TYPES = new Set(['double', 'fixed64', 'sfixed64']);
const NUMERIC_TYPES = new Set([
  ...FIXED32_TYPES,
  ...FIXED64_TYPES,
  ...['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'bool'],
]);

/** The varint at `at` and where the next field starts; null past `end` or past 10 bytes (malformed: protobufjs says why). */
function varint(bytes: Uint8Array, at: number, end: number): [value: number, next: number] | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10 && at < end; i++) {
    const b = bytes[at++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, at];
    scale *= 128;
  }
  return null;
}

/** Values in a packed run of a numeric field. */
function packedCount(type: string, bytes: Uint8Array, start: number, end: number): number {
  if (FIXED32_TYPES.has(type)) return (end - start) / 4;
  if (FIXED64_TYPES.has(type)) return (end - start) / 8;
  let n = 0;
  for (let i = start; i < end; i++) if (bytes[i] < 0x80) n++;
  return n;
}

/**
 * Calls `visit` with each field of the message in `bytes[start, end)`: its number, its wire type
 * and where its value lies (a delimited one's without its length), until `visit` returns false
 * or what follows cannot be read (malformed: protobufjs says why).
 */
function eachField(
  bytes: Uint8Array,
  start: number,
  end: number,
  visit: (id: number, wire: number, from: number, to: number) => boolean,
): void {
  let at = start;
  while (at < end) {
    const key = varint(bytes, at, end);
    if (key === null) return;
    const wire = key[0] % 8;
    let from = key[1];
    let to: number;
    if (wire === VARINT) {
      const value = varint(bytes, from, end);
      if (value === null) return;
      to = value[1];
    } else if (wire === FIXED64) to = from + 8;
    else if (wire === FIXED32) to = from + 4;
    else if (wire === DELIMITED) {
      const length = varint(bytes, from, end);
      if (length === null) return;
      from = length[1];
      to = from + length[0];
    } else return;
    if (to > end || !visit(Math.floor(key[0] / 8), wire, from, to)) return;
    at = to;
  }
}

const isMessage = (t: Field['resolvedType']): t is Type => t !== null && 'fieldsById' in t;

/**
 * What the message of `type` in `bytes[start, end)` holds decoded, counted until it passes
 * `limit` (the count then stops there: its caller refuses it either way).
 */
function messageCost(type: Type, bytes: Uint8Array, start: number, end: number, limit: number): number {
  let cost = OBJECT_BYTES;
  eachField(bytes, start, end, (id, wire, from, to) => {
    const field: Field | undefined = type.fieldsById[id];
    if (field === undefined) return true;
    if (wire !== DELIMITED) cost += field.repeated ? SLOT_BYTES : 0;
    else if (field.map) {
      cost += OBJECT_BYTES;
      // A map entry is a message of its key (1) and value (2).
      const valueType = field.resolvedType;
      if (isMessage(valueType))
        eachField(bytes, from, to, (entryId, entryWire, valueFrom, valueTo) => {
          if (entryId === 2 && entryWire === DELIMITED)
            cost += messageCost(valueType, bytes, valueFrom, valueTo, limit - cost);
          return true;
        });
    } else if (isMessage(field.resolvedType)) cost += messageCost(field.resolvedType, bytes, from, to, limit - cost);
    else if (NUMERIC_TYPES.has(field.type)) cost += packedCount(field.type, bytes, from, to) * SLOT_BYTES;
    else cost += OBJECT_BYTES;
    return cost <= limit;
  });
  return cost;
}

/**
 * The bytes of memory `bytes`, a message of `type`, will hold once decoded (an estimate from
 * below), counted up to just past `limit`.
 */
export function decodedCost(type: Type, bytes: Uint8Array, limit = Number.POSITIVE_INFINITY): number {
  return messageCost(type, bytes, 0, bytes.length, limit);
}
