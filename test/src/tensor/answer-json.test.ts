import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type AnswerEntry, answerJson, CHUNK_ELEMENTS } from '../../../src/tensor/answer-json.js';
import { encodeTensor } from '../../../src/tensor/codec.js';
import { joined } from '../../../src/tensor/pieces.js';
import { countTurns } from '../../helpers/faults.js';

/** What the answer must equal: each result (its pieces joined) encoded by the codec, the whole by JSON.stringify. */
const reference = (entries: readonly AnswerEntry[], encoding: 'json' | 'base64') =>
  JSON.stringify(Object.fromEntries(entries.map((e) => [e.name, encodeTensor(joined(e.values), e.shape, encoding)])));

function ramp(Ctor: Float32ArrayConstructor | Float64ArrayConstructor, n: number): Float32Array | Float64Array {
  const a = new Ctor(n);
  for (let i = 0; i < n; i++) a[i] = (i % 977) / 7 - 50;
  return a;
}

describe('answerJson', () => {
  const small: AnswerEntry[] = [
    { name: 'gradWeight', values: Float64Array.of(1.5, NaN, -0.25, Infinity), shape: [2, 2] },
    { name: 'gradBias', values: Float64Array.of(-Infinity), shape: [1] },
  ];
  for (const encoding of ['json', 'base64'] as const) {
    it(`writes what the codec and JSON.stringify would (${encoding}, several results, NaN and infinities)`, async () => {
      assert.equal((await answerJson(small, encoding)).toString('utf8'), reference(small, encoding));
    });

    it(`joins its chunks seamlessly across chunk boundaries (${encoding}, float32 and float64)`, async () => {
      const n = 2 * CHUNK_ELEMENTS + 123;
      for (const Ctor of [Float32Array, Float64Array]) {
        const values = ramp(Ctor, n);
        values[CHUNK_ELEMENTS + 5] = NaN; // a non-finite value inside a later chunk only
        const entries = [{ name: 'output', values, shape: [1, n] }];
        assert.equal((await answerJson(entries, encoding)).toString('utf8'), reference(entries, encoding));
      }
    });
  }

  it('writes a result given in pieces as the pieces joined, whatever their lengths (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(Float32Array, Float64Array),
        fc.constantFrom('json' as const, 'base64' as const),
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }),
        async (Ctor, encoding, lengths) => {
          const pieces = lengths.map((n, i) => ramp(Ctor, n).map((v) => v + i));
          const n = lengths.reduce((a, b) => a + b, 0);
          const entries = [{ name: 'output', values: pieces, shape: [n] }];
          assert.equal((await answerJson(entries, encoding)).toString('utf8'), reference(entries, encoding));
        },
      ),
    );
  });

  it('writes pieces larger than a chunk, with seams inside and between chunks', async () => {
    for (const encoding of ['json', 'base64'] as const) {
      const pieces = [
        ramp(Float32Array, CHUNK_ELEMENTS + 1),
        ramp(Float32Array, 2 * CHUNK_ELEMENTS + 7),
        ramp(Float32Array, 5),
      ];
      const n = pieces.reduce((a, p) => a + p.length, 0);
      const entries = [{ name: 'output', values: pieces, shape: [n] }];
      assert.equal((await answerJson(entries, encoding)).toString('utf8'), reference(entries, encoding));
    }
  });

  it('lets the event loop run between chunks of a large result', async () => {
    const values = ramp(Float32Array, 8 * CHUNK_ELEMENTS);
    const turnsSoFar = countTurns();
    await answerJson([{ name: 'output', values, shape: [values.length] }], 'json');
    const turns = turnsSoFar();
    assert.ok(turns >= 7, `other work ran ${turns} times while 8 chunks were written`);
  });

  it('lets the event loop run between chunks of a large base64 result, as it writes them out too', async () => {
    const values = ramp(Float32Array, 8 * CHUNK_ELEMENTS * 3);
    const turnsSoFar = countTurns();
    const answer = await answerJson([{ name: 'output', values, shape: [values.length] }], 'base64');
    const turns = turnsSoFar();
    // 6 MiB of bytes: 8 chunks of 768 KiB encoded, then 8 pieces of 1 MiB of text written.
    assert.ok(turns >= 15, `other work ran ${turns} times while 8 chunks were encoded and written`);
    assert.equal(answer.toString('utf8'), reference([{ name: 'output', values, shape: [values.length] }], 'base64'));
  });

  it('refuses a result that does not fit its shape, always as a rejected promise', async () => {
    const refused = answerJson([{ name: 'output', values: new Float32Array(3), shape: [2, 2] }], 'json');
    assert.ok(refused instanceof Promise);
    await assert.rejects(refused, /does not fit/);
  });

  it('answers a result of one chunk at once, and a larger one as a promise', async () => {
    for (const encoding of ['json', 'base64'] as const) {
      const small = [{ name: 'output', values: ramp(Float32Array, 1024), shape: [1024] }];
      const now = answerJson(small, encoding);
      assert.ok(Buffer.isBuffer(now), encoding);
      assert.equal(now.toString('utf8'), reference(small, encoding));
      // Past one chunk in either encoding: CHUNK_ELEMENTS numbers, or 768 KiB of bytes.
      const large = [{ name: 'output', values: ramp(Float32Array, 4 * CHUNK_ELEMENTS), shape: [4 * CHUNK_ELEMENTS] }];
      const later = answerJson(large, encoding);
      assert.ok(later instanceof Promise, encoding);
      assert.equal((await later).toString('utf8'), reference(large, encoding));
    }
  });
});
