import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { JsonRefusal } from '../../../src/tensor/checked-json.js';
import {
  BASE64_PIECE,
  containersRefusal,
  DECODED_BASE64,
  LONG_BASE64,
  longBase64Bytes,
  parseJsonBody,
  parseJsonBodySteps,
} from '../../../src/tensor/json-body.js';

const parse = (text: string): unknown => JSON.parse(text);
const bytesOf = (text: string) => Buffer.from(text, 'utf8');

/** Canonical base64 of `n` bytes, long enough for the parser to decode it itself. */
function base64(n: number, seed = 1): string {
  const bytes = Buffer.alloc(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + seed * 7) & 0xff;
  return bytes.toString('base64');
}
const long = base64(LONG_BASE64);
const longer = base64(3 * LONG_BASE64 + 2, 2);
/** Long enough to be decoded by the parser, not long enough to count as long for the off-loop decision. */
const medium = base64(DECODED_BASE64, 3);

describe('parseJsonBody', () => {
  it('gives what JSON.parse gives, with each long "b64" value decoded once', () => {
    const text = JSON.stringify({
      input: { shape: [4], b64: long },
      weight: { shape: [2], b64: longer, dtype: 'float32' },
      stride: 2,
    });
    const { value, decoded } = parseJsonBody(bytesOf(text), parse);
    assert.deepEqual(value, JSON.parse(text));
    assert.deepEqual(decoded?.take(long), Buffer.from(long, 'base64'));
    assert.deepEqual(decoded?.take(longer), Buffer.from(longer, 'base64'));
  });

  it('hands each value out once, so equal tensors never share a buffer', () => {
    const text = JSON.stringify({ input: { b64: long }, weight: { b64: long } });
    const { decoded } = parseJsonBody(bytesOf(text), parse);
    const first = decoded!.take(long)!;
    const second = decoded!.take(long)!;
    assert.notEqual(first.buffer, second.buffer);
    assert.deepEqual(first, second);
    assert.equal(decoded!.take(long), undefined);
  });

  it('gives each decoded value a buffer of its own, from offset 0, that can be moved to a worker', () => {
    const { decoded } = parseJsonBody(bytesOf(JSON.stringify({ input: { b64: longer } })), parse);
    const bytes = decoded!.take(longer)!;
    assert.equal(bytes.byteOffset, 0);
    assert.equal(bytes.buffer.byteLength, bytes.length);
  });

  it('decodes values from DECODED_BASE64 characters on, which the off-loop decision still counts as JSON below LONG_BASE64', () => {
    const at = base64((DECODED_BASE64 / 4) * 3, 4);
    const below = base64((DECODED_BASE64 / 4) * 3 - 3, 5);
    assert.equal(at.length, DECODED_BASE64);
    const text = JSON.stringify({ input: { shape: [1], b64: at }, weight: { b64: below } });
    const { value, decoded } = parseJsonBody(bytesOf(text), parse);
    assert.deepEqual(value, JSON.parse(text));
    assert.deepEqual(
      decoded?.values.map((v) => v.text),
      [at],
    );
    assert.deepEqual(decoded?.take(at), Buffer.from(at, 'base64'));
    assert.equal(longBase64Bytes(bytesOf(text)), 0);
    assert.equal(longBase64Bytes(bytesOf(JSON.stringify({ input: { b64: long } }))), long.length);
  });

  it('leaves short values, values of other keys and non-canonical base64 to JSON.parse', () => {
    const notCanonical = `${long.slice(0, -4)}AAB=`;
    const withSpace = `${long.slice(0, 100)} ${long.slice(101)}`;
    const text = JSON.stringify({ a: { b64: 'AAAA' }, note: long, b: { b64: notCanonical }, c: { b64: withSpace } });
    const { value, decoded } = parseJsonBody(bytesOf(text), parse);
    assert.deepEqual(value, JSON.parse(text));
    assert.equal(decoded, null);
  });

  it('decodes values longer than one piece, and refuses padding that ends a piece inside the text', () => {
    const many = base64((BASE64_PIECE / 4) * 3 * 2 + 5, 3);
    const { decoded } = parseJsonBody(bytesOf(JSON.stringify({ input: { b64: many } })), parse);
    assert.deepEqual(decoded?.take(many), Buffer.from(many, 'base64'));

    const paddedPiece = base64((BASE64_PIECE / 4) * 3 - 1, 4);
    assert.equal(paddedPiece.length, BASE64_PIECE);
    const text = JSON.stringify({ input: { b64: paddedPiece + long } });
    const parsed = parseJsonBody(bytesOf(text), parse);
    assert.equal(parsed.decoded, null);
    assert.deepEqual(parsed.value, JSON.parse(text));
  });

  it('decodes a piece of base64 a step, over values and across them, to what one go gives', () => {
    const stepsOf = (text: string) => {
      const steps = parseJsonBodySteps(bytesOf(text), parse);
      let yields = 0;
      for (let step = steps.next(); ; step = steps.next(), yields++) if (step.done) return { yields, ...step.value };
    };
    const three = base64((BASE64_PIECE / 4) * 3 * 3, 5);
    const text = JSON.stringify({ input: { b64: three }, weight: { b64: three.slice(0, BASE64_PIECE) } });
    const { yields, value, decoded } = stepsOf(text);
    assert.equal(yields, 3, 'a yield before each piece after the first');
    assert.deepEqual(value, JSON.parse(text));
    assert.deepEqual(decoded, parseJsonBody(bytesOf(text), parse).decoded);
    assert.equal(stepsOf(JSON.stringify({ input: { b64: long }, weight: { b64: longer } })).yields, 0);
  });

  it('finds values however the JSON is spaced, and not inside other strings', () => {
    const escapedKey = JSON.stringify({ note: `"b64": "${long}"` });
    const spaced = `{ "input" :\n\t{ "b64"\r\n :  "${long}" } , "quoted": ${escapedKey} }`;
    const { value, decoded } = parseJsonBody(bytesOf(spaced), parse);
    assert.deepEqual(value, JSON.parse(spaced));
    assert.ok(decoded?.take(long));
    assert.equal(decoded?.take(long), undefined, 'the one inside a string was not taken for a value');
  });

  it('puts values back in a body nested deeper than a call stack reaches', () => {
    const depth = 100_000;
    const text = `{"input": {"b64": "${long}"}, "deep": ${'['.repeat(depth)}"${long}"${']'.repeat(depth)}}`;
    const { value } = parseJsonBody(bytesOf(text), parse);
    let node = (value as { deep: unknown }).deep;
    for (let i = 0; i < depth; i++) node = (node as unknown[])[0];
    assert.equal(node, long);
    assert.equal((value as { input: { b64: string } }).input.b64, long);
  });

  it('refuses a text of more arrays and objects than its charge covers before JSON.parse has it, and takes nested tensor data', () => {
    const crowded = `{"input": {"b64": "${long}"}, "data": [${'[],'.repeat(400_000)}[]]}`;
    assert.throws(
      () => parseJsonBody(bytesOf(crowded), parse),
      (err: unknown) =>
        err instanceof JsonRefusal &&
        err.reason === 'too-many-containers' &&
        /has more than \d+ arrays and objects/.test(err.message),
    );
    assert.match(
      containersRefusal(bytesOf(`[${'{},'.repeat(400_000)}{}]`)) ?? '',
      /has more than \d+ arrays and objects/,
    );
    // /v2 data nested by dimension with unit dimensions: ~10 times its text, and within.
    const nested = JSON.stringify(
      Array.from({ length: 32_768 }, (_, i) => [
        [
          [i, 0.5],
          [1, 2],
        ],
      ]),
    );
    assert.equal(containersRefusal(bytesOf(nested)), null);
    assert.equal(containersRefusal(bytesOf('[]')), null);
  });

  it("refuses an invalid body with the body's own error, positions and all", () => {
    for (const text of [
      `{"input": {"b64": "${long}"}} x`,
      `{"input": {"b64": "${long}"}`,
      `{"input": {"b64": "${long}" "b64": 1}}`,
    ]) {
      const expected = (() => {
        try {
          JSON.parse(text);
        } catch (err) {
          return (err as Error).message;
        }
        throw new Error('the body should be invalid');
      })();
      assert.throws(() => parseJsonBody(bytesOf(text), parse), { message: expected });
    }
  });

  it('leaves to the checking parser every body that could spell __proto__ or constructor, and only those', () => {
    const checked = (text: string) => ({ checked: JSON.parse(text.replace(/^\uFEFF/, '')) as unknown });
    const suspects = [
      '{"__proto__": {"x": 1}}',
      '{"a": {"constructor": {"prototype": {}}}}',
      '{"\\u005f_proto__": 1}',
      '{"a": "\\n"}',
      '\uFEFF{"a": 1}',
      `{"input": {"b64": "${long}"}, "constructor": 1}`,
    ];
    for (const text of suspects) {
      const { value } = parseJsonBody(bytesOf(text), checked);
      assert.ok(value !== null && typeof value === 'object' && 'checked' in value, text.slice(0, 40));
    }
    for (const text of ['{"a": 1, "proto": "constructo"}', `{"input": {"b64": "${long}"}}`]) {
      assert.deepEqual(parseJsonBody(bytesOf(text), checked).value, JSON.parse(text));
    }
    assert.throws(
      () =>
        parseJsonBody(bytesOf('{"a": '), () => {
          throw new Error("the checking parser's words");
        }),
      { message: "the checking parser's words" },
    );
  });

  it('decodes a long value exactly when it is canonical base64, whatever one character is changed to (fast-check)', () => {
    const canonical = (text: string) => Buffer.from(text, 'base64').toString('base64') === text;
    const chars = fc.oneof(
      fc.constantFrom('=', '-', '_', ' ', '\n', '*', '.', 'A', 'Q', 'g', '+', '/', '\u00e9', '\u2603', '\u0000'),
      fc.string({ minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: LONG_BASE64, max: LONG_BASE64 + 8 }),
        fc.nat(),
        fc.boolean(),
        chars,
        fc.boolean(),
        (n, at, inLastGroup, char, insert) => {
          const text = base64(n, n);
          // The last group is where padding and its bits live: changed in half the runs.
          const i = inLastGroup ? text.length - 1 - (at % 4) : at % text.length;
          const changed = text.slice(0, i) + char + text.slice(insert ? i : i + 1);
          const { value, decoded } = parseJsonBody(bytesOf(JSON.stringify({ input: { b64: changed } })), parse);
          assert.deepEqual(value, { input: { b64: changed } });
          const bytes = decoded?.take(changed);
          assert.equal(bytes !== undefined, canonical(changed), JSON.stringify({ n, i, char, insert, inLastGroup }));
          if (bytes) assert.deepEqual(bytes, Buffer.from(changed, 'base64'));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads a body as UTF-8 whatever its bytes: ASCII, multi-byte characters, broken sequences', () => {
    const asUtf8 = (bytes: Buffer) => JSON.parse(bytes.toString('utf8')) as unknown;
    const bodies = [
      bytesOf('{"a": "plain", "b": [1, 2.5]}'),
      bytesOf('{"x": "\u00e9t\u00e9 \u2603 \u{1F600}", "caf\u00e9": 1}'),
      Buffer.concat([bytesOf('{"a": "'), Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]), bytesOf('"}')]),
      Buffer.concat([bytesOf('{"latin1": "'), Buffer.from([0xe9, 0xe8]), bytesOf('"}')]),
    ];
    for (const body of bodies) {
      assert.deepEqual(parseJsonBody(body, parse).value, asUtf8(body), body.toString('hex'));
      assert.deepEqual(
        parseJsonBody(body, (text) => JSON.parse(text) as unknown).value,
        asUtf8(body),
        body.toString('hex'),
      );
    }
  });

  it('reads generated bodies of any bytes as UTF-8 (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 10 }), (raw, text) => {
        const inString = Buffer.from(raw.filter((b) => b !== 0x22 && b !== 0x5c && b >= 0x20));
        const body = Buffer.concat([bytesOf('{"s": "'), inString, bytesOf(`", "t": ${JSON.stringify(text)}}`)]);
        assert.deepEqual(parseJsonBody(body, parse).value, JSON.parse(body.toString('utf8')));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with JSON.parse on generated bodies (fast-check)', () => {
    const b64Value = fc.oneof(
      fc.constantFrom(
        long,
        longer,
        medium,
        `${long.slice(0, -4)}AAB=`,
        `${long.slice(0, 8)}\\"${long.slice(10)}`,
        'AAAA',
        medium.slice(4),
      ),
      fc.string(),
    );
    const leaf = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.constant(null),
      fc.string(),
      b64Value,
    );
    const tree = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(fc.constantFrom('b64', 'shape', 'x', 'input'), tie('node'), { maxKeys: 4 }),
      ),
    })).node;
    fc.assert(
      fc.property(tree, fc.constantFrom(0, 1, '\t'), (node, space) => {
        const text = JSON.stringify(node, null, space === 0 ? undefined : space);
        const { value } = parseJsonBody(bytesOf(text), parse);
        assert.deepEqual(value, JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });
});
