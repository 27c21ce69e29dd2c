import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { im2col, im2colBatch } from '../../../workers/kernels/im2col.js';
import { columnsGeometries, dataSeed, dtypes, seeded } from '../helpers/arbitraries.js';
import { columnsGeometry, columnsLength, imageLength } from '../helpers/geometry.js';
import { assertClose, filled, random } from '../helpers/tensors.js';
import { unfoldReference } from '../reference/unfold.js';

describe('im2colBatch', () => {
  it('equals unfold by its definition (an exact copy, padding read as 0)', () => {
    fc.assert(
      fc.property(columnsGeometries(false), dtypes, dataSeed, (g, dtype, seed) => {
        const image = random(dtype, imageLength(g), seed);
        const columns = filled(dtype, columnsLength(g), Number.NaN);
        im2colBatch(g, image, columns);
        assertClose(columns, unfoldReference(g, image), 0, 'columns');
      }),
      seeded(200),
    );
  });

  it('unfolds onto the grid it is given, even one the unfold formula would not give', () => {
    fc.assert(
      fc.property(columnsGeometries(true), dtypes, dataSeed, (g, dtype, seed) => {
        const image = random(dtype, imageLength(g), seed);
        const columns = filled(dtype, columnsLength(g), Number.NaN);
        im2colBatch(g, image, columns);
        assertClose(columns, unfoldReference(g, image), 0, 'columns');
      }),
      seeded(200),
    );
  });

  it('reads each kernel offset with its dilation: a 2x2 window dilated by 2 on a 3x3 image takes the corners', () => {
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
      dH: 2,
      dW: 2,
    });
    const columns = new Float64Array(4);
    im2colBatch(g, Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), columns);
    assert.deepEqual(Array.from(columns), [1, 3, 7, 9]);
  });
});

describe('im2col (one sample)', () => {
  it('unfolds a block of channels at an offset and writes only its own region of the columns', () => {
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
          // The block is channels [skipChannels, skipChannels + g.channels) of a larger image.
          const image = random(dtype, (skipChannels + g.channels + 1) * planes, seed);
          const columns = filled(dtype, columnsOffset + columnsLength(sample) + 3, -7);
          im2col(g, image, skipChannels * planes, columns, columnsOffset);
          const block = image.subarray(skipChannels * planes, (skipChannels + g.channels) * planes);
          const expected = Float64Array.from(columns).fill(-7);
          expected.set(unfoldReference(sample, block), columnsOffset);
          assertClose(columns, expected, 0, 'columns');
        },
      ),
      seeded(150),
    );
  });
});
