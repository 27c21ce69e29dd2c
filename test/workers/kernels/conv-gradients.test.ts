import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ConvGeometry } from '../../../workers/geometry.js';
import { scratchLength } from '../../../workers/kernels/columns-length.js';
import { convTranspose2dForward } from '../../../workers/kernels/conv-transpose2d-forward.js';
import { convTranspose2dGradInput } from '../../../workers/kernels/conv-transpose2d-grad-input.js';
import { convTranspose2dGradParameters } from '../../../workers/kernels/conv-transpose2d-grad-parameters.js';
import { conv2dForward } from '../../../workers/kernels/conv2d-forward.js';
import { conv2dGradInput } from '../../../workers/kernels/conv2d-grad-input.js';
import { conv2dGradParameters } from '../../../workers/kernels/conv2d-grad-parameters.js';
import { convGeometries, dataSeed, seeded } from '../helpers/arbitraries.js';
import { inputLength, outputLength, weightLength } from '../helpers/geometry.js';
import { dot, random } from '../helpers/tensors.js';

const kernels = {
  'conv-transpose2d': {
    forward: convTranspose2dForward,
    gradInput: convTranspose2dGradInput,
    gradParameters: convTranspose2dGradParameters,
  },
  conv2d: { forward: conv2dForward, gradInput: conv2dGradInput, gradParameters: conv2dGradParameters },
};

// L is linear in each coordinate, so a central difference is exact up to rounding whatever the
// step; a power of two keeps x +- h exact.
const step = 0.5;

function checkGradients(g: ConvGeometry, seed: number): void {
  const k = kernels[g.kind];
  const columns = new Float64Array(scratchLength(g));
  const x = random('float64', inputLength(g), seed);
  const w = random('float64', weightLength(g), seed + 1);
  const b = random('float64', g.outChannels, seed + 2);
  const r = random('float64', outputLength(g), seed + 3);
  const output = new Float64Array(outputLength(g));
  /** L = <forward(x, w, b), r>. */
  const loss = (): number => {
    k.forward(g, x, w, b, output, columns);
    return dot(output, r);
  };

  const gradInput = new Float64Array(inputLength(g));
  const gradWeight = new Float64Array(weightLength(g));
  const gradBias = new Float64Array(g.outChannels);
  k.gradInput(g, r, w, gradInput, columns);
  k.gradParameters(g, x, r, gradWeight, gradBias, 1, columns);

  for (const [name, values, gradient] of [
    ['input', x, gradInput],
    ['weight', w, gradWeight],
    ['bias', b, gradBias],
  ] as const) {
    for (let i = 0; i < values.length; i++) {
      const kept = values[i];
      values[i] = kept + step;
      const up = loss();
      values[i] = kept - step;
      const down = loss();
      values[i] = kept;
      const difference = (up - down) / (2 * step);
      assert.ok(
        Math.abs(difference - gradient[i]) <= 1e-9 * (1 + Math.abs(difference)),
        `d L / d ${name}[${i}]: kernel ${gradient[i]}, central difference ${difference}`,
      );
    }
  }
}

describe('grad-input and grad-parameters kernels', () => {
  const bounds = { maxBatch: 2, maxSize: 5, maxChannels: 4 };
  for (const kind of ['conv-transpose2d', 'conv2d'] as const) {
    it(`match central differences of L = <${kind}(x, w, b), r> for x, w and b`, () => {
      fc.assert(fc.property(convGeometries(kind, bounds), dataSeed, checkGradients), seeded(15));
    });
  }
});
