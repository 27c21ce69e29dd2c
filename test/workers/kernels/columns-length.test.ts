import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { selectVariant } from '../../../workers/gemm/registry.js';
import type { FloatArray } from '../../../workers/geometry.js';
import { scratchLength } from '../../../workers/kernels/columns-length.js';
import { convTranspose2dForward } from '../../../workers/kernels/conv-transpose2d-forward.js';
import { convTranspose2dGradInput } from '../../../workers/kernels/conv-transpose2d-grad-input.js';
import { convTranspose2dGradParameters } from '../../../workers/kernels/conv-transpose2d-grad-parameters.js';
import { conv2dForward } from '../../../workers/kernels/conv2d-forward.js';
import { conv2dGradInput } from '../../../workers/kernels/conv2d-grad-input.js';
import { conv2dGradParameters } from '../../../workers/kernels/conv2d-grad-parameters.js';
import { seeded } from '../helpers/arbitraries.js';
import { type ConvCase, convCases, pointwise, scratchFor } from '../helpers/conv-cases.js';
import { inputLength, outputLength } from '../helpers/geometry.js';
import { zeros } from '../helpers/tensors.js';

/** Each conv kernel of a case's kind, run once with the given scratch. */
function kernelRuns({ g, dtype, data }: ConvCase): Array<[string, (columns: FloatArray) => void]> {
  const output = zeros(dtype, outputLength(g));
  const gradInput = zeros(dtype, inputLength(g));
  const gradWeight = data.gradWeight.slice();
  const gradBias = data.gradBias.slice();
  if (g.kind === 'conv2d') {
    return [
      ['forward', (c) => conv2dForward(g, data.input, data.weight, data.bias, output, c)],
      ['grad-input', (c) => conv2dGradInput(g, data.gradOutput, data.weight, gradInput, c)],
      ['grad-parameters', (c) => conv2dGradParameters(g, data.input, data.gradOutput, gradWeight, gradBias, 1, c)],
    ];
  }
  return [
    ['forward', (c) => convTranspose2dForward(g, data.input, data.weight, data.bias, output, c)],
    ['grad-input', (c) => convTranspose2dGradInput(g, data.gradOutput, data.weight, gradInput, c)],
    [
      'grad-parameters',
      (c) => convTranspose2dGradParameters(g, data.input, data.gradOutput, gradWeight, gradBias, 1, c),
    ],
  ];
}

describe('scratchLength', () => {
  // The kernel tests run every kernel with exactly scratchLength elements of NaN-filled scratch
  // and get the reference results, so it is enough; this shows it is no more than they use. With
  // the TypeScript GEMM, whose col2im steps go through the scratch (the WebAssembly variant folds
  // inside its own memory and leaves it untouched).
  before(() => {
    for (const name of ['f32-gemm-reference-ts', 'f64-gemm-reference-ts']) selectVariant(name);
  });
  after(() => selectVariant());
  for (const kind of ['conv-transpose2d', 'conv2d'] as const) {
    it(`is exactly what every ${kind} kernel uses with the TypeScript GEMM: each overwrites all of it`, () => {
      fc.assert(
        fc.property(convCases(kind), (c) => {
          for (const [name, run] of kernelRuns(c)) {
            const columns = scratchFor(c.g, c.dtype);
            run(columns);
            assert.ok(!columns.some(Number.isNaN), `${name} left scratch it was given untouched`);
          }
        }),
        seeded(60),
      );
    });

    it(`is 0 for a 1x1, stride 1, unpadded ${kind}, whose columns are the image itself`, () => {
      for (const g of pointwise(kind)) assert.equal(scratchLength(g), 0);
    });
  }
});
