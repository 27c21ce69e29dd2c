import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { transposedInputSize, transposedOutputSize, windowCount } from '../../../src/ops/sizes.js';

const MAX_INT = 2 ** 31 - 1;

describe('size formulas', () => {
  it('floors the window count of a negative numerator instead of truncating it towards zero', () => {
    // (2 + 0 - 2 - 1) / 2 = -0.5: floor gives 0 windows, truncation would give 1.
    assert.equal(windowCount(2, 3, 2, 0, 1).value, 0n);
    assert.equal(windowCount(1, 3, 1, 0, 1).value, -1n);
  });

  it('agrees with the float formula wherever floats are exact', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat({ max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        (h, k, s, p, d) => {
          assert.equal(windowCount(h, k, s, p, d).value, BigInt(Math.floor((h + 2 * p - d * (k - 1) - 1) / s) + 1));
          assert.equal(transposedOutputSize(h, k, s, p, d, 0).value, BigInt((h - 1) * s - 2 * p + d * (k - 1) + 1));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
  });

  it('stays exact where (H - 1) * stride passes 2^53', () => {
    const size = transposedOutputSize(MAX_INT, 1, MAX_INT, 0, 1, 0);
    assert.equal(size.value, (BigInt(MAX_INT) - 1n) * BigInt(MAX_INT) + 1n);
    assert.equal(size.formula, `(${MAX_INT} - 1) * ${MAX_INT} - 2 * 0 + 1 * (1 - 1) + 0 + 1 = ${size.value}`);
  });

  it('inverts the transposed output size, outputPadding included, and reports a remainder as no size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 5 }),
        fc.nat({ max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat({ max: 4 }),
        (h, k, s, p, d, a) => {
          const out = transposedOutputSize(h, k, s, p, d, a).value;
          fc.pre(out >= 1n);
          assert.equal(transposedInputSize(Number(out), k, s, p, d, a).value, BigInt(h));
        },
      ),
      { seed: 42, numRuns: 300 },
    );
    assert.equal(transposedInputSize(6, 3, 2, 0, 1, 0).value, undefined);
    assert.match(transposedInputSize(6, 3, 2, 0, 1, 0).formula, /= 2\.5$/);
  });
});
