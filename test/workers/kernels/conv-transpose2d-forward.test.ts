import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { scratchLength } from '../../../workers/kernels/columns-length.js';
import { convTranspose2dForward } from '../../../workers/kernels/conv-transpose2d-forward.js';
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
import { convolvedSize, outputLength } from '../helpers/geometry.js';
import { assertClose, filled, tolerance, zeros } from '../helpers/tensors.js';
import { convTranspose2dForwardReference } from '../reference/conv-transpose2d.js';

/** Runs the kernel into a NaN-filled output (it must overwrite, not accumulate) and checks it. */
function check({ g, dtype, data, withBias }: ConvCase, columns = scratchFor(g, dtype)): void {
  const bias = withBias ? data.bias : null;
  const output = filled(dtype, outputLength(g), Number.NaN);
  convTranspose2dForward(g, data.input, data.weight, bias, output, columns);
  assertClose(output, convTranspose2dForwardReference(g, data.input, data.weight, bias), tolerance[dtype], 'output');
}

describe('convTranspose2dForward', () => {
  it('scatters each input pixel times the weight into the output and adds the bias, as the direct loop does', () => {
    fc.assert(
      fc.property(convCases('conv-transpose2d'), (c) => check(c)),
      seeded(200),
    );
  });

  it('folds onto the input grid when outputPadding >= stride (legal below the dilation)', () => {
    for (const c of explicitCases(outputPaddingAtLeastStride)) {
      const { g } = c;
      assert.ok(
        convolvedSize(g.outH, g.kH, g.sH, g.pH, g.dH) > g.inH || convolvedSize(g.outW, g.kW, g.sW, g.pW, g.dW) > g.inW,
      );
      check(c);
    }
  });

  it('writes a 1x1, stride 1, unpadded convolution straight from the GEMM, needing no scratch', () => {
    for (const c of explicitCases(pointwise('conv-transpose2d'))) {
      assert.equal(scratchLength(c.g), 0);
      check(c, zeros(c.dtype, 0));
    }
  });

  it('still folds a 1x1 kernel whose padding shifts the output onto a same-sized grid', () => {
    for (const c of explicitCases(nearlyPointwise('conv-transpose2d'))) {
      assert.equal(c.g.outH * c.g.outW, c.g.inH * c.g.inW);
      check(c);
    }
  });

  it('propagates NaN and Infinity from input, weight and bias as IEEE arithmetic does', () => {
    for (const c of explicitCases(outputPaddingAtLeastStride)) {
      c.data.input[1] = Number.NaN;
      c.data.input[c.data.input.length - 2] = Number.POSITIVE_INFINITY;
      c.data.weight[0] = Number.NEGATIVE_INFINITY;
      c.data.bias[c.data.bias.length - 1] = Number.POSITIVE_INFINITY;
      const expected = convTranspose2dForwardReference(c.g, c.data.input, c.data.weight, c.data.bias);
      assert.ok(expected.some(Number.isNaN) && expected.some((v) => v === Infinity) && expected.some(Number.isFinite));
      check(c);
    }
  });
});
