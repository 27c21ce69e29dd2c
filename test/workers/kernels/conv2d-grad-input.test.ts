import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scratchLength } from '../../../workers/kernels/columns-length.js';
import { conv2dGradInput } from '../../../workers/kernels/conv2d-grad-input.js';
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
import { inputLength } from '../helpers/geometry.js';
import { assertClose, filled, tolerance, zeros } from '../helpers/tensors.js';
import { conv2dGradInputReference } from '../reference/conv2d.js';

/** Runs the kernel into a NaN-filled gradInput (it must overwrite, not accumulate) and checks it. */
function check({ g, dtype, data }: ConvCase, columns = scratchFor(g, dtype)): void {
  const gradInput = filled(dtype, inputLength(g), Number.NaN);
  conv2dGradInput(g, data.gradOutput, data.weight, gradInput, columns);
  assertClose(gradInput, conv2dGradInputReference(g, data.gradOutput, data.weight), tolerance[dtype], 'gradInput');
}

describe('conv2dGradInput', () => {
  it('gives each input pixel the sum of gradOutput times weight over the windows that read it', () => {
    fc.assert(
      fc.property(convCases('conv2d'), (c) => check(c)),
      seeded(200),
    );
  });

  it('gives 0 to input rows and columns no window reaches', () => {
    for (const c of explicitCases(strideLeavesRemainder)) check(c);
  });

  it('writes a 1x1, stride 1, unpadded convolution straight from the GEMM, needing no scratch', () => {
    for (const c of explicitCases(pointwise('conv2d'))) {
      assert.equal(scratchLength(c.g), 0);
      check(c, zeros(c.dtype, 0));
    }
  });

  it('still folds a 1x1 kernel with a stride or padding', () => {
    for (const c of explicitCases(nearlyPointwise('conv2d'))) check(c);
  });
});
