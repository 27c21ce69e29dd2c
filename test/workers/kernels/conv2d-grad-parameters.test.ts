import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scratchLength } from '../../../workers/kernels/columns-length.js';
import { conv2dGradParameters } from '../../../workers/kernels/conv2d-grad-parameters.js';
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
import { assertClose, tolerance, zeros } from '../helpers/tensors.js';
import { gradBiasReference } from '../reference/bias.js';
import { accumulated } from '../reference/conv.js';
import { conv2dGradWeightReference } from '../reference/conv2d.js';

/**
 * Accumulates into the case's non-zero gradWeight / gradBias (gradBias only when withBias) and
 * checks start + scale * gradient.
 */
function check({ g, dtype, data, withBias, scale }: ConvCase, columns = scratchFor(g, dtype)): void {
  const gradWeight = data.gradWeight.slice();
  const gradBias = withBias ? data.gradBias.slice() : null;
  conv2dGradParameters(g, data.input, data.gradOutput, gradWeight, gradBias, scale, columns);
  const expectedWeight = accumulated(data.gradWeight, scale, conv2dGradWeightReference(g, data.input, data.gradOutput));
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

describe('conv2dGradParameters', () => {
  it('adds scale times the sum over the batch of gradOutput times the input each weight read to gradWeight, and the scaled gradOutput sums to gradBias', () => {
    fc.assert(
      fc.property(convCases('conv2d'), (c) => check(c)),
      seeded(200),
    );
  });

  it('skips gradBias when it is null and still accumulates gradWeight', () => {
    fc.assert(
      fc.property(convCases('conv2d'), (c) => check({ ...c, withBias: false })),
      seeded(30),
    );
  });

  it('with scale 0 leaves gradWeight and gradBias as they were', () => {
    for (const c of explicitCases(strideLeavesRemainder)) {
      const gradWeight = c.data.gradWeight.slice();
      const gradBias = c.data.gradBias.slice();
      conv2dGradParameters(c.g, c.data.input, c.data.gradOutput, gradWeight, gradBias, 0, scratchFor(c.g, c.dtype));
      assert.deepEqual(gradWeight, c.data.gradWeight);
      assert.deepEqual(gradBias, c.data.gradBias);
    }
  });

  it('ignores input rows and columns no window reaches', () => {
    for (const c of explicitCases(strideLeavesRemainder)) check(c);
  });

  it('reads the input directly for a 1x1, stride 1, unpadded convolution, needing no scratch', () => {
    for (const c of explicitCases(pointwise('conv2d'))) {
      assert.equal(scratchLength(c.g), 0);
      check(c, zeros(c.dtype, 0));
    }
  });

  it('still unfolds a 1x1 kernel with a stride or padding', () => {
    for (const c of explicitCases(nearlyPointwise('conv2d'))) check(c);
  });
});
