import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { col2im, col2imBatch } from '../../../workers/kernels/col2im.js';
import { im2colBatch } from '../../../workers/kernels/im2col.js';
import { columnsGeometries, dataSeed, dtypes, seeded } from '../helpers/arbitraries.js';
import { columnsGeometry, columnsLength, imageLength } from '../helpers/geometry.js';
import { assertClose, dot, dotScale, filled, random, tolerance } from '../helpers/tensors.js';
import { foldReference } from '../reference/unfold.js';

describe('col2imBatch', () => {
  it('equals fold by its definition, on any grid it is given', () => {
    fc.assert(
      fc.property(columnsGeometries(true), dtypes, dataSeed, (g, dtype, seed) => {
        const columns = random(dtype, columnsLength(g), seed);
        const image = random(dtype, imageLength(g), seed + 1);
        col2imBatch(g, columns, image);
        assertClose(image, foldReference(g, columns), tolerance[dtype], 'image');
      }),
      seeded(200),
    );
  });

  it('zeroes the image before summing, so NaN already in it does not leak', () => {
    fc.assert(
      fc.property(columnsGeometries(false), dtypes, dataSeed, (g, dtype, seed) => {
        const columns = random(dtype, columnsLength(g), seed);
        const image = filled(dtype, imageLength(g), Number.NaN);
        col2imBatch(g, columns, image);
        assertClose(image, foldReference(g, columns), tolerance[dtype], 'image');
      }),
      seeded(100),
    );
  });

  it('sums overlapping windows: folding ones counts the windows covering each pixel', () => {
    // 2x2 windows at stride 1 over a 3x3 image: corners are in 1 window, edges in 2, the centre in 4.
    const g = columnsGeometry({
      batch: 1,
      channels: 1,
      height: 3,
      width: 3,
      kH: 2,
      kW: 2,
      sH: 1,
      sW: 1,
      pH: 0,
      pW: 0,
      dH: 1,
      dW: 1,
    });
    const image = new Float32Array(9);
    col2imBatch(g, new Float32Array(columnsLength(g)).fill(1), image);
    assert.deepEqual(Array.from(image), [1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });

  it('drops entries that fall in the padding', () => {
    // A 3x3 window with padding 1 over a 1x1 image: only the centre tap lands on the image.
    const g = columnsGeometry({
      batch: 1,
      channels: 1,
      height: 1,
      width: 1,
      kH: 3,
      kW: 3,
      sH: 1,
      sW: 1,
      pH: 1,
      pW: 1,
      dH: 1,
      dW: 1,
    });
    const columns = Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);
    const image = new Float64Array(1);
    col2imBatch(g, columns, image);
    assert.deepEqual(Array.from(image), [5]);
  });

  it('is the adjoint of im2colBatch: <im2col(x), c> = <x, col2im(c)>', () => {
    fc.assert(
      fc.property(columnsGeometries(true), dataSeed, (g, seed) => {
        const x = random('float64', imageLength(g), seed);
        const c = random('float64', columnsLength(g), seed + 1);
        const unfolded = new Float64Array(columnsLength(g));
        const folded = new Float64Array(imageLength(g));
        im2colBatch(g, x, unfolded);
        col2imBatch(g, c, folded);
        const lhs = dot(unfolded, c);
        const rhs = dot(x, folded);
        assert.ok(Math.abs(lhs - rhs) <= 1e-12 * (1 + dotScale(unfolded, c)), `${lhs} != ${rhs}`);
      }),
      seeded(200),
    );
  });
});

describe('col2im (one sample)', () => {
  it('folds into a block of channels at an offset and writes only that block of the image', () => {
    fc.assert(
      fc.property(
        columnsGeometries(true),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 5 }),
        dtypes,
        dataSeed,
        (g, skipChannels, columnsOffset, dtype, seed) => {
          const sample = { ...g, batch: 1 };
          const planes = g.height * g.width;
          const columns = random(dtype, columnsOffset + columnsLength(sample) + 3, seed);
          const image = filled(dtype, (skipChannels + g.channels + 1) * planes, -7);
          col2im(g, image, skipChannels * planes, columns, columnsOffset);
          const expected = Float64Array.from(image).fill(-7);
          const own = columns.subarray(columnsOffset, columnsOffset + columnsLength(sample));
          expected.set(foldReference(sample, own), skipChannels * planes);
          assertClose(image, expected, tolerance[dtype], 'image');
        },
      ),
      seeded(150),
    );
  });
});
