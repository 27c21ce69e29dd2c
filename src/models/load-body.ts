import { BACKSLASH, COLON, escaped, QUOTE, skipSpace } from '../tensor/json-bytes.js';
import { FILE_PARAMETER } from './layer-files.js';

/**
 * A load request's body with the weights file's base64 left where it stands. Nearly all of the
 * body is that one value: given whole to JSON.parse it would be held three times over (the body,
 * its text, the parsed string) before a byte is decoded. Here the value is found in the bytes and
 * JSON.parse sees the rest with an empty string in its place.
 *
 * Why the result is JSON.parse's: the key is taken only where it occurs once, unescaped and
 * followed by a colon (so it is a key, not text inside a string), and the value only if every byte
 * up to its closing quote is free of backslashes (no escape), so in a valid body those quotes are
 * the value's own and the bytes its text; that the text is base64 is checked as it is decoded. Anything else (an escaped key, two of them, a
 * value that is not plain base64) is left to the whole parse.
 */

const KEY = Buffer.from(`"${FILE_PARAMETER}"`, 'latin1');

export interface SplitBody {
  /** The body without the value: JSON, with "" where the base64 stood. */
  readonly rest: Buffer;
  /** The base64's bytes, a view of the body. */
  readonly base64: Uint8Array;
}

/** Where a body's weights file's base64 stands: its first byte and the byte past its last. */
export type LoadValue = readonly [start: number, end: number];

/**
 * Where the body's weights file's base64 stands, or null when the body must be parsed whole. Found
 * once, where a load is charged (src/models/layers.ts: a body parsed whole holds more), and handed
 * to the load thread with the body.
 */
export function findLoadValue(body: Uint8Array): LoadValue | null {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let found: LoadValue | null = null;
  for (let key = bytes.indexOf(KEY); key >= 0; key = bytes.indexOf(KEY, key + 1)) {
    if (escaped(bytes, key)) continue;
    const colon = skipSpace(bytes, key + KEY.length);
    if (bytes[colon] !== COLON) continue;
    if (found !== null) return null;
    const open = skipSpace(bytes, colon + 1);
    if (bytes[open] !== QUOTE) return null;
    const close = bytes.indexOf(QUOTE, open + 1);
    if (close < 0) return null;
    found = [open + 1, close];
    key = close;
  }
  if (found === null) return null;
  const [start, end] = found;
  // No quote stands before `end` (it is the first after the opening one); no backslash means no
  // escape: the text is the string's value as it is. Its alphabet is checked where it is decoded.
  const backslash = bytes.indexOf(BACKSLASH, start);
  if (backslash >= 0 && backslash < end) return null;
  return found;
}

/** The body split around its weights file's base64, where findLoadValue found it. */
export function splitLoadBody(body: Uint8Array, [start, end]: LoadValue): SplitBody {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return { rest: Buffer.concat([bytes.subarray(0, start), bytes.subarray(end)]), base64: bytes.subarray(start, end) };
}
