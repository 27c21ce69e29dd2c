import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scratchLength } from '../../../workers/kernels/columns-length.js';
import { conv2dForward } from '../../../workers/kernels/conv2d-forward.js';
import { seeded } from '../helpers/arbitraries.js';
import {
  type ConvCase,
  convCases,
  explicitCases,
  nearlyPointwise,
  pointwise,
  scratchFor,
  strideLeavesRemainder,
} from '../helpers/conv-cases.js';
import { outputLength } from '../helpers/geometry.js';
import { assertClose, filled, tolerance, zeros } from '../helpers/tensors.js';
import { conv2dForwardReference } from '../reference/conv2d.js';

/** Runs the kernel into a NaN-filled output (it must overwrite, not accumulate) and checks it. */
function check({ g, dtype, data, withBias }: ConvCase, columns = scratchFor(g, dtype)): void {
  const bias = withBias ? data.bias : null;
  const output = filled(dtype, outputLength(g), Number.NaN);
  conv2dForward(g, data.input, data.weight, bias, output, columns);
  assertClose(output, conv2dForwardReference(g, data.input, data.weight, bias), tolerance[dtype], 'output');
}

describe('conv2dForward', () => {
  it('sums input times weight over each window (the textbook loop) and adds the bias', () => {
    fc.assert(
      fc.property(convCases('conv2d'), (c) => check(c)),
      seeded(200),
    );
  });

  it('leaves out input rows and columns the last window does not reach', () => {
    for (const c of explicitCases(strideLeavesRemainder)) check(c);
  });

  it('computes a 1x1, stride 1, unpadded convolution straight from the input, needing no scratch', () => {
    for (const c of explicitCases(pointwise('conv2d'))) {
      assert.equal(scratchLength(c.g), 0);
      check(c, zeros(c.dtype, 0));
    }
  });

  it('still unfolds a 1x1 kernel with a stride or padding', () => {
    for (const c of explicitCases(nearlyPointwise('conv2d'))) check(c);
  });

  it('propagates NaN and Infinity from input and bias as IEEE arithmetic does', () => {
    // Non-finite weights are left out: the padding is multiplied in (0 * Infinity = NaN) as with
    // PyTorch's im2col path, while the direct loop skips it; the golden vectors settle that case.
    for (const c of explicitCases(strideLeavesRemainder)) {
      c.data.input[0] = Number.POSITIVE_INFINITY;
      c.data.input[c.data.input.length / 2 + c.g.inW] = Number.NaN; // second sample, row 1: read by some window
      c.data.bias[c.data.bias.length - 1] = Number.POSITIVE_INFINITY;
      const expected = conv2dForwardReference(c.g, c.data.input, c.data.weight, c.data.bias);
      assert.ok(expected.some(Number.isNaN) && expected.some((v) => v === Infinity) && expected.some(Number.isFinite));
      check(c);
    }
  });
});
