import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scratchLength } from '../../../workers/kernels/columns-length.js';
import { convTranspose2dGradParameters } from '../../../workers/kernels/conv-transpose2d-grad-parameters.js';
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
import { assertClose, tolerance, zeros } from '../helpers/tensors.js';
import { gradBiasReference } from '../reference/bias.js';
import { accumulated } from '../reference/conv.js';
import { convTranspose2dGradWeightReference } from '../reference/conv-transpose2d.js';

/**
 * Accumulates into the case's non-zero gradWeight / gradBias (gradBias only when withBias) and
 * checks start + scale * gradient.
 */
function check({ g, dtype, data, withBias, scale }: ConvCase, columns = scratchFor(g, dtype)): void {
  const gradWeight = data.gradWeight.slice();
  const gradBias = withBias ? data.gradBias.slice() : null;
  convTranspose2dGradParameters(g, data.input, data.gradOutput, gradWeight, gradBias, scale, columns);
  const expectedWeight = accumulated(
    data.gradWeight,
    scale,
    convTranspose2dGradWeightReference(g, data.input, data.gradOutput),
  );
  assertClose(gradWeight, expectedWeight, tolerance[dtype], 'gradWeight');
  if (gradBias !== null) {
    assertClose(
      gradBias,
      accumulated(data.gradBias, scale, gradBiasReference(g, data.gradOutput)),
      tolerance[dtype],
      'gradBias',
    );
  }
}

describe('convTranspose2dGradParameters', () => {
  it('adds scale times the sum over the batch of input times gradOutput per tap to gradWeight, and the scaled gradOutput sums to gradBias', () => {
    fc.assert(
      fc.property(convCases('conv-transpose2d'), (c) => check(c)),
      seeded(200),
    );
  });

  it('skips gradBias when it is null and still accumulates gradWeight', () => {
    fc.assert(
      fc.property(convCases('conv-transpose2d'), (c) => check({ ...c, withBias: false })),
      seeded(30),
    );
  });

  it('with scale 0 leaves gradWeight and gradBias as they were', () => {
    for (const c of explicitCases(outputPaddingAtLeastStride)) {
      const gradWeight = c.data.gradWeight.slice();
      const gradBias = c.data.gradBias.slice();
      convTranspose2dGradParameters(
        c.g,
        c.data.input,
        c.data.gradOutput,
        gradWeight,
        gradBias,
        0,
        scratchFor(c.g, c.dtype),
      );
      assert.deepEqual(gradWeight, c.data.gradWeight);
      assert.deepEqual(gradBias, c.data.gradBias);
    }
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
