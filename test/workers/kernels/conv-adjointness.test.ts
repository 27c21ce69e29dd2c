import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ConvGeometry } from '../../../workers/geometry.js';
import { scratchLength } from '../../../workers/kernels/columns-length.js';
import { convTranspose2dForward } from '../../../workers/kernels/conv-transpose2d-forward.js';
import { conv2dForward } from '../../../workers/kernels/conv2d-forward.js';
import { conv2dGeometries, convTranspose2dGeometries, dataSeed, seeded } from '../helpers/arbitraries.js';
import {
  conv2dGeometry,
  convTranspose2dGeometry,
  inputLength,
  outputLength,
  weightLength,
} from '../helpers/geometry.js';
import { dot, dotScale, random } from '../helpers/tensors.js';

// A transposed convolution and the plain convolution with the same weight and window, run from
// the transposed one's output back to its input, are adjoint linear maps of their input (bias
// absent): <convT(x, w), y> = <x, conv2d(y, w)>.

function forward(g: ConvGeometry, input: Float64Array, weight: Float64Array): Float64Array {
  const output = new Float64Array(outputLength(g));
  const columns = new Float64Array(scratchLength(g));
  (g.kind === 'conv2d' ? conv2dForward : convTranspose2dForward)(g, input, weight, null, output, columns);
  return output;
}

/** The other kind with the same window and weight, mapping g's output shape back to its input's. */
function mirror(g: ConvGeometry): ConvGeometry {
  const spec = { ...g, inChannels: g.outChannels, outChannels: g.inChannels, inH: g.outH, inW: g.outW };
  if (g.kind === 'conv-transpose2d') return conv2dGeometry(spec);
  // outputPadding recovers the rows and columns the plain convolution's stride left out.
  const rest = (size: number, k: number, s: number, p: number, d: number): number =>
    (size + 2 * p - d * (k - 1) - 1) % s;
  return convTranspose2dGeometry({
    ...spec,
    aH: rest(g.inH, g.kH, g.sH, g.pH, g.dH),
    aW: rest(g.inW, g.kW, g.sW, g.pW, g.dW),
  });
}

function checkAdjoint(g: ConvGeometry, seed: number): void {
  const back = mirror(g);
  assert.deepEqual([back.outH, back.outW, back.outChannels], [g.inH, g.inW, g.inChannels]);
  const x = random('float64', inputLength(g), seed) as Float64Array;
  const y = random('float64', outputLength(g), seed + 1) as Float64Array;
  const w = random('float64', weightLength(g), seed + 2) as Float64Array;
  const forth = forward(g, x, w);
  const lhs = dot(forth, y);
  const rhs = dot(x, forward(back, y, w));
  assert.ok(Math.abs(lhs - rhs) <= 1e-12 * (1 + dotScale(forth, y)), `${lhs} != ${rhs}`);
}

describe('conv-transpose2d and conv2d forward kernels', () => {
  it('are adjoint: <convT(x, w), y> = <x, conv2d(y, w)> (outputPadding below stride)', () => {
    const geometries = convTranspose2dGeometries().filter((g) => g.aH < g.sH && g.aW < g.sW);
    fc.assert(fc.property(geometries, dataSeed, checkAdjoint), seeded(150));
  });

  it('are adjoint the other way: <conv2d(x, w), y> = <x, convT(y, w)>, outputPadding taking back the stride remainder', () => {
    fc.assert(fc.property(conv2dGeometries(), dataSeed, checkAdjoint), seeded(150));
  });
});
