/**
 * What a request is expected to hold in memory at its peak, from its body's size and encoding and
 * its answer's size: the charge admission takes from the memory budget (src/memory-budget.ts).
 * The factors were measured (RELIABILITY.md, "Memory model") as peak resident bytes per byte,
 * garbage not yet collected included.
 */

/** Per body byte, by how the body carries its tensors. */
export const HELD_PER_BODY_BYTE = {
  /** The text, the parsed arrays of numbers, the typed arrays decoded from them. */
  jsonNumbers: 6,
  /** The text, the decoded bytes (0.75 x), the skeleton. */
  base64: 3,
  /** /v2's binary extension: the bytes, then the tensors copied out of them. */
  binary: 2.5,
} as const;

/** Per result byte (4 or 8 per element), by the answer's encoding. */
export const HELD_PER_RESULT_BYTE = {
  /** ~10-20 characters of text per element, formatted in chunks, then serialised. */
  jsonNumbers: 10,
  /** The result, its base64 (1.33 x) and the serialised answer. */
  base64: 4,
  binary: 2.5,
} as const;

export type Encoding = keyof typeof HELD_PER_BODY_BYTE;

const B64_KEY = Buffer.from('"b64"');
const QUOTE = 0x22;

/**
 * How many of a JSON body's bytes are base64 values (`"b64": "..."`): a cost estimate, not a
 * parse; a body that lies about it is refused by its parser, and its charge is given back.
 */
export function base64Bytes(body: Buffer): number {
  let total = 0;
  for (let key = body.indexOf(B64_KEY); key >= 0; key = body.indexOf(B64_KEY, key + 1)) {
    const open = body.indexOf(QUOTE, key + B64_KEY.length);
    if (open < 0) break;
    const close = body.indexOf(QUOTE, open + 1);
    if (close < 0) break;
    total += close - open - 1;
    key = close;
  }
  return total;
}

/** The bytes a JSON body is expected to hold once parsed and decoded. */
export function jsonBodyCost(body: Buffer): number {
  const b64 = base64Bytes(body);
  return Math.ceil(b64 * HELD_PER_BODY_BYTE.base64 + (body.length - b64) * HELD_PER_BODY_BYTE.jsonNumbers);
}

/** The same for /v2's binary extension: a JSON header of `headerLength` bytes, then raw tensors. */
export function binaryBodyCost(body: Buffer, headerLength: number): number {
  const header = Math.min(body.length, Math.max(0, headerLength));
  return Math.ceil(jsonBodyCost(body.subarray(0, header)) + (body.length - header) * HELD_PER_BODY_BYTE.binary);
}

/** The encoding a JSON body's answer most likely takes: that of its tensors (the default). */
export const answerEncodingOf = (body: Buffer, binary: boolean): Encoding =>
  binary ? 'binary' : base64Bytes(body) * 2 > body.length ? 'base64' : 'jsonNumbers';

/** The bytes an answer of `resultBytes` bytes of tensors is expected to hold while it is written. */
export const answerCost = (resultBytes: number, encoding: Encoding): number => Math.ceil(resultBytes * HELD_PER_RESULT_BYTE[encoding]);

/** The least a body of `bytes` can hold: what admission checks before reading it. */
export const leastBodyCost = (bytes: number): number => Math.ceil(bytes * Math.min(...Object.values(HELD_PER_BODY_BYTE)));
