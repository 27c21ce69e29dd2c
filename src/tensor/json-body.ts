import { isAscii } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { HELD_PER_BODY_BYTE } from '../memory-model.js';
import { hasUrlAlphabet, lastGroupMatches } from './canonical-base64.js';
import { JsonRefusal } from './checked-json.js';
import { COLON, escaped, QUOTE, skipSpace } from './json-bytes.js';

/**
 * /v1 JSON bodies, parsed from their bytes with the base64 of their tensors decoded once.
 *
 * Nearly all of a large body is `"b64"` strings. Given whole to JSON.parse, they would be decoded
 * from UTF-8, copied into the parsed object, scanned by the prototype-poisoning check and later
 * decoded from base64: four passes over megabytes on the main thread. Here each `"b64"`
 * value (but a short one) that is canonical base64 is decoded straight from the body's bytes, and JSON.parse sees
 * the rest of the body with a placeholder in its place, put back afterwards.
 *
 * Why the result is exactly JSON.parse's: a value is replaced only if it holds nothing but the
 * base64 alphabet (no quote, backslash or control character), so in a valid body its quotes are
 * the string's own and it is the value of a "b64" key; in an invalid body, replacing a run of
 * alphabet characters by another cannot make it valid. A body the skeleton parse refuses is parsed
 * again whole, so its error is the body's own.
 */

/**
 * Base64 values of at least this many characters are long: they do not count towards the JSON
 * that decides whether a body is parsed off the event loop (src/tensor/off-loop-parse.ts).
 */
export const LONG_BASE64 = 64 * 1024;

/**
 * Below this many characters a value is left to JSON.parse. JSON.parse reads a string at about
 * a third of a nanosecond a character, and taking a value out costs about as much as a thousand
 * of them: the small op's tensors (5,464 and 12,288 characters) took JSON.parse 6 us of its 7,
 * and were then decoded and checked again by the codec.
 */
export const DECODED_BASE64 = 1024;

/** A base64 value found in a body: its text (as the parsed body holds it) and its bytes. */
export interface Base64Value {
  readonly text: string;
  readonly bytes: Buffer;
}

/**
 * The decoded base64 values of one body. `take` hands each value's bytes out once, so two
 * tensors with equal text never share (and both move) one buffer.
 */
export class DecodedBase64 {
  readonly #values: Base64Value[];

  constructor(values: Base64Value[]) {
    this.#values = values;
  }

  /** The values not taken yet. */
  get values(): readonly Base64Value[] {
    return this.#values;
  }

  take(text: string): Buffer | undefined {
    const i = this.#values.findIndex((v) => v.text === text);
    if (i < 0) return undefined;
    return this.#values.splice(i, 1)[0].bytes;
  }
}

export interface ParsedJson {
  readonly value: unknown;
  readonly decoded: DecodedBase64 | null;
}

// Needles as bytes: a string needle is encoded again on every search.
const B64_KEY = Buffer.from('"b64"', 'latin1');
const PROTO_KEY = Buffer.from('"__proto__"', 'latin1');
const CONSTRUCTOR_KEY = Buffer.from('"constructor"', 'latin1');

/** Where each `"b64": "..."` value of at least `min` characters starts and ends (quotes excluded). */
function base64Ranges(body: Buffer, min: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let key = body.indexOf(B64_KEY); key >= 0; key = body.indexOf(B64_KEY, key + 1)) {
    if (escaped(body, key)) continue;
    const colon = skipSpace(body, key + B64_KEY.length);
    if (body[colon] !== COLON) continue;
    const open = skipSpace(body, colon + 1);
    if (body[open] !== QUOTE) continue;
    const close = body.indexOf(QUOTE, open + 1);
    if (close < 0) break;
    if (close - open - 1 >= min) ranges.push([open + 1, close]);
    key = close;
  }
  return ranges;
}

/** Bytes of a body that are long base64 values (LONG_BASE64 characters or more). */
export function longBase64Bytes(body: Buffer): number {
  return base64Ranges(body, LONG_BASE64).reduce((n, [start, end]) => n + end - start, 0);
}

/**
 * Characters decoded at a time: a multiple of 4 below Node's 1 MB threshold for external strings,
 * so every piece of text is an ordinary heap string (external ones of megabytes each made V8 run
 * a full collection after nearly every request).
 */
export const BASE64_PIECE = 4 * 2 ** 18;

/** Bytes canonical base64 of `length` characters, whose last two are `last` and `beforeLast`, decodes to; -1 if it cannot be canonical. */
function decodedLength(length: number, last: number, beforeLast: number): number {
  if (length % 4 !== 0) return -1;
  const EQUALS = 0x3d;
  return (length / 4) * 3 - (last === EQUALS ? (beforeLast === EQUALS ? 2 : 1) : 0);
}

/** How many base64 characters a parse has decoded since it last let the event loop through. */
interface Pace {
  chars: number;
}

/**
 * The text and bytes of `body[start, end)` if it is canonical base64 (src/tensor/canonical-base64.ts),
 * decoded piece by piece into one buffer of its own; the text is the pieces joined (a rope: V8
 * copies nothing until a reader needs it flat, and none does). A piece short of the bytes its
 * length promises is not canonical. It yields before a piece once the parse has decoded a piece's
 * worth since its last yield.
 */
function* canonicalBase64(body: Buffer, start: number, end: number, pace: Pace): Generator<void, Base64Value | null> {
  const length = decodedLength(end - start, body[end - 1], body[end - 2]);
  const range = body.subarray(start, end);
  if (length <= 0 || hasUrlAlphabet(range)) return null;
  const bytes = Buffer.allocUnsafeSlow(length);
  let text = '';
  let written = 0;
  for (let from = start; from < end; from += BASE64_PIECE) {
    if (pace.chars >= BASE64_PIECE) {
      pace.chars = 0;
      yield;
    }
    const to = Math.min(end, from + BASE64_PIECE);
    const piece = body.toString('latin1', from, to);
    const promised = to === end ? length - written : ((to - from) / 4) * 3;
    if (bytes.write(piece, written, 'base64') !== promised) return null;
    written += promised;
    text += piece;
    pace.chars += to - from;
  }
  return lastGroupMatches(bytes, body.toString('latin1', end - 4, end)) ? { text, bytes } : null;
}

/**
 * Puts the values back where the placeholders stand (values only: a key is never replaced). With
 * a stack of its own rather than recursion: JSON.parse takes any depth, and so must this.
 */
function restore(root: unknown, placeholders: ReadonlyMap<string, string>): unknown {
  if (typeof root === 'string') return placeholders.get(root) ?? root;
  const pending: object[] = [];
  const visit = (container: Record<string | number, unknown>, key: string | number) => {
    const value = container[key];
    if (typeof value === 'string') {
      const text = placeholders.get(value);
      if (text !== undefined) container[key] = text;
    } else if (value !== null && typeof value === 'object') pending.push(value);
  };
  if (root !== null && typeof root === 'object') pending.push(root);
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    const container = node as Record<string | number, unknown>;
    if (Array.isArray(node)) for (let i = 0; i < node.length; i++) visit(container, i);
    else for (const key of Object.keys(node)) visit(container, key);
  }
  return root;
}

/** A parsed array or object: V8's header and the slot that holds it, at least. */
export const CONTAINER_BYTES = 64;

/** What a body's arrays and objects may hold beyond its charge: /v2 data nested by dimension, with unit dimensions, takes ~10 times its text. */
const CONTAINERS_BEYOND_CHARGE = 8 * 2 ** 20;

/**
 * Why JSON.parse must not have `bytes`, or null. It makes an object of every `[` and `{`: `{},`
 * repeated holds 36 times its size parsed (57 MiB of it took a parse thread to 2,078 MiB), where
 * the memory model charges JSON numbers 6 times theirs (src/memory-model.ts). A text whose arrays
 * and objects would hold more than that charge and CONTAINERS_BEYOND_CHARGE is refused unparsed;
 * counted over the whole text, strings too, which tensor bodies hold none of.
 */
export function containersRefusal(bytes: Uint8Array): string | null {
  const allowed = Math.floor(
    (HELD_PER_BODY_BYTE.jsonNumbers * bytes.length + CONTAINERS_BEYOND_CHARGE) / CONTAINER_BYTES,
  );
  if (bytes.length <= allowed) return null;
  // A native search per bracket: a body of numbers has a few, and the count stops past the limit.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let containers = 0;
  for (const bracket of [0x5b, 0x7b])
    for (let at = text.indexOf(bracket); at >= 0 && containers <= allowed; at = text.indexOf(bracket, at + 1))
      containers++;
  if (containers <= allowed) return null;
  return `the body has more than ${allowed} arrays and objects in ${bytes.length} bytes, which would take over ${HELD_PER_BODY_BYTE.jsonNumbers} times its size once parsed`;
}

/**
 * `bytes` parsed by the checking parser where they need it, by JSON.parse where the two cannot
 * differ. Without a backslash a text escapes no character and can name those keys only as
 * `"__proto__"` and `"constructor"`; byte searches for them (and for a BOM, which only the
 * checking parser strips) take about a microsecond, the quotes being rare in base64, where the
 * checking parser's regular expressions over a small request's text took a third of its parse.
 * What JSON.parse refuses goes to the checking parser, which says why.
 */
function parseBytes(bytes: Buffer, checkingParse: (text: string) => unknown): unknown {
  const crowded = containersRefusal(bytes);
  if (crowded) throw new JsonRefusal('too-many-containers', crowded);
  // ASCII reads the same as latin1, which is a copy, twice as fast as decoding UTF-8; the check
  // is a vectorised scan. Any other byte (a UTF-8 sequence, or one that is not) is decoded as
  // UTF-8, replacement characters and all, as before.
  const text = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const plain =
    !bytes.includes(0x5c) &&
    !bytes.includes(PROTO_KEY) &&
    !bytes.includes(CONSTRUCTOR_KEY) &&
    !(bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf);
  if (plain) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // the checking parser below says why
    }
  }
  return checkingParse(text);
}

/**
 * Parses `body` as `checkingParse` (src/tensor/checked-json.ts: Fastify's checks, prototype poisoning and all)
 * would, with its base64 values of DECODED_BASE64 characters or more already decoded. It throws on a body `checkingParse` refuses.
 * The skeleton decides alone which parser it needs: the values it lacks are base64, which holds
 * no backslash, quote or underscore, so it spells a suspect key exactly where the body does.
 */
export function parseJsonBody(body: Buffer, checkingParse: (text: string) => unknown): ParsedJson {
  const steps = parseJsonBodySteps(body, checkingParse);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * parseJsonBody a step at a time, for a caller on the event loop: a body's long base64 is decoded
 * BASE64_PIECE characters a step (about a millisecond on an idle core; 30 ms of CPU for 5.6 MB in
 * one go under load, when health probes waited behind it), and the step that returns is the
 * parse of the rest. A body with at most a piece of base64 in all is parsed in the first step.
 */
export function* parseJsonBodySteps(
  body: Buffer,
  checkingParse: (text: string) => unknown,
): Generator<void, ParsedJson, void> {
  const found: { range: [number, number]; value: Base64Value }[] = [];
  const pace: Pace = { chars: 0 };
  for (const range of base64Ranges(body, DECODED_BASE64)) {
    const value = yield* canonicalBase64(body, range[0], range[1], pace);
    if (value) found.push({ range, value });
  }
  if (found.length === 0) return { value: parseBytes(body, checkingParse), decoded: null };

  const nonce = randomUUID().replaceAll('-', '');
  const placeholders = new Map<string, string>();
  const pieces: Buffer[] = [];
  let at = 0;
  found.forEach(({ range: [start, end], value }, i) => {
    const placeholder = `${nonce}${i}`;
    placeholders.set(placeholder, value.text);
    pieces.push(body.subarray(at, start), Buffer.from(placeholder, 'latin1'));
    at = end;
  });
  pieces.push(body.subarray(at));
  let skeleton: unknown;
  try {
    skeleton = parseBytes(Buffer.concat(pieces), checkingParse);
  } catch (err) {
    if (err instanceof JsonRefusal && err.reason === 'too-many-containers') throw err;
    return { value: checkingParse(body.toString('utf8')), decoded: null };
  }
  return { value: restore(skeleton, placeholders), decoded: new DecodedBase64(found.map((f) => f.value)) };
}
