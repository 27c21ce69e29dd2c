import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkElements, checkMacs, product } from '../../../src/ops/limits.js';
import { assertOpError } from './op-test-helpers.js';

// 2131348265 * 4226057 = 2^53 + 113, which a float64 product rounds down to 2^53 + 112.
const PAST_2_53 = [2131348265, 4226057];
const ROUNDED = 2 ** 53 + 112;

describe('size limits', () => {
  it('counts elements exactly past 2^53, where a float product would round', () => {
    assert.equal(PAST_2_53[0] * PAST_2_53[1], ROUNDED);
    assert.equal(product(PAST_2_53), 2n ** 53n + 113n);
  });

  it('rejects a tensor one element over the limit even where floats could not tell', () => {
    assertOpError(() => checkElements('input', PAST_2_53, { maxElements: ROUNDED, maxMacs: 0 }), {
      status: 413,
      path: 'input',
      message: `input has ${2n ** 53n + 113n} elements (2131348265 x 4226057), more than the limit of ${ROUNDED}`,
    });
  });

  it('accepts a tensor exactly at the limit', () => {
    assert.doesNotThrow(() => checkElements('output', [4, 4], { maxElements: 16, maxMacs: 0 }));
    assertOpError(() => checkElements('output', [17], { maxElements: 16, maxMacs: 0 }), {
      status: 413,
      path: 'output',
      message: 'output has 17 elements (17), more than the limit of 16',
    });
  });

  it('returns the cost when it is within budget and names cost and budget when it is not', () => {
    assert.equal(checkMacs([2, 3, 4], { maxElements: 0, maxMacs: 24 }), 24);
    assertOpError(() => checkMacs([2, 3, 5], { maxElements: 0, maxMacs: 24 }), {
      status: 413,
      path: '',
      message: 'the request costs 30 multiply-adds (2 x 3 x 5), more than the limit of 24',
    });
  });
});
