import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scratchLength } from '../../../workers/kernels/columns-length.js';
import { convTranspose2dGradInput } from '../../../workers/kernels/conv-transpose2d-grad-input.js';
import { seeded } from '../helpers/arbitraries.js';
import {
  type ConvCase,
  convCases,
  explicitCases,
  nearlyPointwise,
  outputPaddingAtLeastStride,
  pointwise,
  scratchFor,
} from '../helpers/conv-cases.js';
import { inputLength } from '../helpers/geometry.js';
import { assertClose, filled, tolerance, zeros } from '../helpers/tensors.js';
import { convTranspose2dGradInputReference } from '../reference/conv-transpose2d.js';

/** Runs the kernel into a NaN-filled gradInput (it must overwrite, not accumulate) and checks it. */
function check({ g, dtype, data }: ConvCase, columns = scratchFor(g, dtype)): void {
  const gradInput = filled(dtype, inputLength(g), Number.NaN);
  convTranspose2dGradInput(g, data.gradOutput, data.weight, gradInput, columns);
  assertClose(
    gradInput,
    convTranspose2dGradInputReference(g, data.gradOutput, data.weight),
    tolerance[dtype],
    'gradInput',
  );
}

describe('convTranspose2dGradInput', () => {
  it('gives each input pixel the sum of gradOutput times weight over the taps it scattered to', () => {
    fc.assert(
      fc.property(convCases('conv-transpose2d'), (c) => check(c)),
      seeded(200),
    );
  });

  it('unfolds gradOutput on the input grid when outputPadding >= stride', () => {
    for (const c of explicitCases(outputPaddingAtLeastStride)) check(c);
  });

  it('reads gradOutput directly for a 1x1, stride 1, unpadded convolution, needing no scratch', () => {
    for (const c of explicitCases(pointwise('conv-transpose2d'))) {
      assert.equal(scratchLength(c.g), 0);
      check(c, zeros(c.dtype, 0));
    }
  });

  it('still unfolds a 1x1 kernel whose padding shifts the output onto a same-sized grid', () => {
    for (const c of explicitCases(nearlyPointwise('conv-transpose2d'))) check(c);
  });
});
