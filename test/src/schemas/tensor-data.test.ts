import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ELEMENT_MESSAGE,
  firstBadElement,
  firstFloat32Overflow,
  PackedData,
  TensorDataSchema,
} from '../../../src/schemas/tensor-data.js';

/** What float32 overflow means: a finite double that rounds to an infinity. */
const overflows = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && !Number.isFinite(Math.fround(v));

describe('firstFloat32Overflow', () => {
  it('finds the first finite double that float32 rounds to an infinity, in arrays and packed data (fast-check)', () => {
    // Around the rounding edge (2^128 - 2^103) and anywhere else, with the spellings in between.
    const edge = 2 ** 128 - 2 ** 103;
    const near = fc.integer({ min: -3, max: 3 }).map((k) => edge + k * 2 ** 75);
    const value = fc.oneof(
      near,
      near.map((v) => -v),
      fc.double(),
      fc.constantFrom(3.4028234663852886e38, Infinity, -Infinity, NaN),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 20 }), (values) => {
        const expected = values.findIndex(overflows);
        assert.equal(firstFloat32Overflow(values), expected);
        assert.equal(firstFloat32Overflow(new PackedData(Float64Array.from(values))), expected);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('TensorDataSchema', () => {
  it('reports the first bad element alone, at its index', () => {
    const data = [1, 'NaN', 'x', 'nan', {}];
    const result = TensorDataSchema.safeParse(data);
    assert.equal(result.success, false);
    assert.deepEqual(
      result.error!.issues.map((i) => [i.path, i.message]),
      [[[2], ELEMENT_MESSAGE]],
    );
    assert.equal(firstBadElement(new Array(100_000).fill('x')), 0);
  });

  it('takes packed data as read, and reports its first bad element', () => {
    const packed = new PackedData(Float64Array.of(1, 2));
    assert.equal(TensorDataSchema.parse(packed), packed);
    const bad = TensorDataSchema.safeParse(new PackedData(Float64Array.of(1), 1));
    assert.deepEqual(
      bad.error!.issues.map((i) => i.path),
      [[1]],
    );
  });

  it('refuses what is not an array, and a plain object dressed as packed data', () => {
    for (const v of ['1', 1, {}, { values: [1], firstBad: -1, length: 1 }, null])
      assert.equal(TensorDataSchema.safeParse(v).success, false, JSON.stringify(v));
  });
});
