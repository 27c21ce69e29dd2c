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
  /** /v2's binary extension: the bytes, the tensors copied out of them, the parts sent to the workers. */
  binary: 3,
} as const;

/** Per result byte (4 or 8 per element), by the answer's encoding. */
export const HELD_PER_RESULT_BYTE = {
  /** ~10-20 characters of text per element, formatted in chunks, then serialised. */
  jsonNumbers: 10,
  /** The result, its base64 (1.33 x) and the serialised answer. */
  base64: 4,
  /** The result, the framed answer. */
  binary: 3.5,
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

/** Characters a JSON number takes, commas included, in bodies that are not made to be small: an estimate of the tensor bytes behind a text. */
const JSON_NUMBER_CHARS = 6;

/**
 * What a whole body is expected to hold once parsed and decoded (`bytes`), the bytes of the
 * tensors it carries (`tensorBytes`, float32), and the encoding its answer most likely takes:
 * that of its tensors, the default.
 */
export interface BodyCost {
  readonly bytes: number;
  readonly tensorBytes: number;
  readonly answer: Encoding;
}

/**
 * What JSON.parse holds of a text of many short values, where the per-byte charge falls short:
 * per byte of the text, and per value (each after the first in an array or object follows a
 * comma). Measured on Node 26 with single 60 MiB /v1 bodies of nothing but values, an answer of
 * one element, peak RSS over idle: `0,` held 11.2 x the text (22.4 B a value), `0.5,` 7.2 x,
 * `0.123,` 5.5 x, 20-character numbers 4.1 x, `true,` 5.6 x, 2-letter strings 5.9 x: about 3.2 x
 * the text and 16 B a value. Charged 3 x and 18 B, which covers each by 1.04-1.18 x where it
 * passes the per-byte charge, and adds nothing for numbers of 5 characters or more.
 */
export const HELD_PER_PARSED_TEXT_BYTE = 3;
export const HELD_PER_PARSED_VALUE = 18;

/**
 * What parsing a JSON text of `textBytes` bytes (its base64 values not counted: they are charged
 * apart) and up to `values` values holds beyond the per-byte charge of JSON numbers: nothing for
 * numbers of ordinary length, twice as much again for `0,0,0,...`.
 */
export const denseJsonExtra = (textBytes: number, values: number): number =>
  Math.max(
    0,
    Math.ceil(
      textBytes * HELD_PER_PARSED_TEXT_BYTE +
        values * HELD_PER_PARSED_VALUE -
        textBytes * HELD_PER_BODY_BYTE.jsonNumbers,
    ),
  );

/** The cost of a JSON body. */
export function jsonBodyCost(body: Buffer): BodyCost {
  const b64 = base64Bytes(body);
  const numbers = body.length - b64;
  return {
    bytes: Math.ceil(b64 * HELD_PER_BODY_BYTE.base64 + numbers * HELD_PER_BODY_BYTE.jsonNumbers),
    tensorBytes: Math.ceil((b64 * 3) / 4 + (numbers / JSON_NUMBER_CHARS) * 4),
    answer: b64 * 2 > body.length ? 'base64' : 'jsonNumbers',
  };
}

/** The cost of a body in /v2's binary extension: a JSON header of `headerLength` bytes, then raw tensors. */
export function binaryBodyCost(body: Buffer, headerLength: number): BodyCost {
  const headerBytes = Math.min(body.length, Math.max(0, headerLength));
  const header = jsonBodyCost(body.subarray(0, headerBytes));
  const raw = body.length - headerBytes;
  return {
    bytes: Math.ceil(header.bytes + raw * HELD_PER_BODY_BYTE.binary),
    tensorBytes: header.tensorBytes + raw,
    answer: 'binary',
  };
}

/** The bytes an answer of `resultBytes` bytes of tensors is expected to hold while it is written. */
export const answerCost = (resultBytes: number, encoding: Encoding): number =>
  Math.ceil(resultBytes * HELD_PER_RESULT_BYTE[encoding]);

/** The least a body of `bytes` can hold, with its answer: past the budget, a 413 before it is read. */
export const leastCost = (bytes: number): number => Math.ceil(bytes * Math.min(...Object.values(HELD_PER_BODY_BYTE)));

/**
 * The most a body of `bytes` is expected to hold with its answer, before it is read: as JSON
 * numbers (the dearest encoding, whose answer is as many numbers), or as /v2 binary tensors.
 * Charged in proportion as the body arrives; once it is whole, the larger of that share and the
 * body's own cost stands until the answer's size is planned.
 */
export function expectedCost(bytes: number, binary: boolean): number {
  if (binary) return Math.ceil(bytes * HELD_PER_BODY_BYTE.binary + answerCost(bytes, 'binary'));
  return Math.ceil(bytes * HELD_PER_BODY_BYTE.jsonNumbers + answerCost((bytes / JSON_NUMBER_CHARS) * 4, 'jsonNumbers'));
}
