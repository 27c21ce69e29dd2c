import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { offeredVariants } from '../../../workers/gemm/registry.js';
import { col2im } from '../../../workers/kernels/col2im.js';
import { im2col } from '../../../workers/kernels/im2col.js';
import { columnsLength, imageLength } from '../../../workers/kernels/sample-columns.js';
import { columnsGeometries, dataSeed, seeded } from '../helpers/arbitraries.js';
import { random, zeros } from '../helpers/tensors.js';

describe("a GEMM variant's fused steps", () => {
  const fused = offeredVariants().filter((v) => v.gemmCol2im !== undefined || v.im2colGemm !== undefined);

  it('is offered with the WebAssembly and native variants, where the runtime has them', () => {
    assert.ok(
      fused.every((v) => v.family === 'wasm' || v.family === 'native'),
      fused.map((v) => v.name).join(),
    );
  });

  for (const variant of fused) {
    it(`${variant.name}: GEMM + col2im equals its GEMM followed by col2im.ts, to the bit`, () => {
      fc.assert(
        fc.property(
          columnsGeometries(true),
          fc.integer({ min: 1, max: 6 }),
          fc.boolean(),
          dataSeed,
          (grid, k, transA, seed) => {
            const dtype = variant.dtype;
            const m = grid.channels * grid.kH * grid.kW;
            const n = grid.colH * grid.colW;
            const a = random(dtype, m * k, seed);
            const b = random(dtype, k * n, seed + 1);
            const lda = transA ? m : k;
            const columns = zeros(dtype, columnsLength(grid));
            const want = random(dtype, imageLength(grid) + 3, seed + 2);
            const got = want.slice();
            variant.gemm(transA, false, m, n, k, 1, a, 0, lda, b, 0, n, 0, columns, 0, n);
            col2im(grid, want, 3, columns, 0);
            const scratch = zeros(dtype, columnsLength(grid));
            const image = { grid, image: got, imageOffset: 3, columns: scratch };
            variant.gemmCol2im!({ ...image, transA, m, n, k, a, aOffset: 0, lda, b, bOffset: 0, ldb: n });
            assert.deepEqual(got, want);
          },
        ),
        seeded(150),
      );
    });

    it(`${variant.name}: im2col + GEMM equals im2col.ts followed by its GEMM, to the bit`, () => {
      fc.assert(
        fc.property(
          columnsGeometries(true),
          fc.integer({ min: 1, max: 6 }),
          fc.boolean(),
          fc.boolean(),
          dataSeed,
          (grid, m, transA, transB, seed) => {
            const dtype = variant.dtype;
            const rows = grid.channels * grid.kH * grid.kW;
            const plane = grid.colH * grid.colW;
            // op(B) is the columns (k = rows, n = plane) or their transpose (k = plane, n = rows).
            const [k, n] = transB ? [plane, rows] : [rows, plane];
            const a = random(dtype, m * k, seed);
            const lda = transA ? m : k;
            const image = random(dtype, imageLength(grid) + 2, seed + 1);
            const want = random(dtype, m * n, seed + 2);
            const got = want.slice();
            const columns = zeros(dtype, columnsLength(grid));
            im2col(grid, image, 2, columns, 0);
            variant.gemm(transA, transB, m, n, k, 0.5, a, 0, lda, columns, 0, plane, 1, want, 0, n);
            const unfolded = { grid, image, imageOffset: 2, columns: zeros(dtype, columnsLength(grid)) };
            const product = { transA, transB, m, n, k, alpha: 0.5, a, aOffset: 0, lda };
            variant.im2colGemm!({ ...unfolded, ...product, beta: 1, c: got, cOffset: 0, ldc: n });
            assert.deepEqual(got, want);
          },
        ),
        seeded(150),
      );
    });
  }
});
