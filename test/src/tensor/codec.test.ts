import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeCanonical, decodeTensor } from '../../../src/tensor/codec.js';

/** The definition decodeCanonical must agree with: the bytes, encoded again, are the text. */
function reference(text: string, byteLength: number): Buffer | null {
  const bytes = Buffer.alloc(byteLength);
  return bytes.write(text, 'base64') === byteLength && bytes.toString('base64') === text ? bytes : null;
}

const base64 = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff)).toString('base64');

describe('decodeCanonical', () => {
  it('accepts exactly the canonical base64 of the stated byte count, whatever characters are changed (fast-check)', () => {
    const chars = fc.oneof(
      fc.constantFrom(
        '=',
        '-',
        '_',
        ' ',
        '\n',
        '*',
        '.',
        'A',
        'Q',
        'g',
        '+',
        '/',
        '\u00e9',
        '\u0141',
        '\u0161',
        '\u012b',
        '\u2603',
        '\u0000',
        '\u00c1',
      ),
      fc.string({ minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: -2, max: 2 }),
        fc.array(fc.record({ at: fc.nat(), char: chars, insert: fc.boolean(), inLastGroup: fc.boolean() }), {
          maxLength: 3,
        }),
        (n, stated, changes) => {
          let text = base64(n, n);
          for (const { at, char, insert, inLastGroup } of changes) {
            const i = inLastGroup ? Math.max(0, text.length - 1 - (at % 4)) : at % text.length;
            text = text.slice(0, i) + char + text.slice(insert ? i : i + 1);
          }
          const byteLength = Math.max(1, n + stated);
          const got = decodeCanonical(text, byteLength);
          const want = reference(text, byteLength);
          assert.deepEqual(got, want, JSON.stringify({ text, byteLength }));
          if (got) assert.equal(got.buffer.byteLength, byteLength, 'a buffer of its own');
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('refuses a text whose wide character the decoder would read by its low byte', () => {
    // U+0141's low byte is "A": Node's decoder reads "\u0141AAA" as "AAAA".
    assert.equal(decodeCanonical('\u0141AAA', 3), null);
    assert.deepEqual(decodeCanonical('AAAA', 3), Buffer.alloc(3));
  });
});

describe('decodeTensor', () => {
  it('gives a typed array over a buffer of its own, and names the field of a non-canonical text', () => {
    const values = Float32Array.from([1, -2.5, 3e-7]);
    const b64 = Buffer.from(values.buffer).toString('base64');
    const out = decodeTensor({ shape: [3], dtype: 'float32', b64 }, 'input');
    assert.deepEqual(out, values);
    assert.equal(out.buffer.byteLength, 12);
    const bad = `${b64.slice(0, -2)}B=`;
    assert.throws(() => decodeTensor({ shape: [3], dtype: 'float32', b64: bad }, 'weight'), {
      message: /^weight\.b64 is not the canonical base64 of 12 bytes/,
    });
  });
});
