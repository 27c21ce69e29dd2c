import { gemm } from '../gemm/dispatch.js';
import { selectedVariant } from '../gemm/registry.js';
import type { FloatArray } from '../geometry.js';
import { col2im } from './col2im.js';
import type { SampleColumns } from './sample-columns.js';

/**
 * columns = op(A) B, folded by col2im onto `image` at `imageOffset`: the selected GEMM variant's
 * own fused step where it has one (the WebAssembly one folds inside its memory), else the GEMM
 * into `columns` (m * n elements of scratch) and col2im.ts. The results are the same either way.
 */
export function gemmThenCol2im<F extends FloatArray>(
  transA: boolean, m: number, n: number, k: number,
  a: F, aOffset: number, lda: number, b: F, bOffset: number, ldb: number,
  grid: SampleColumns, image: F, imageOffset: number, columns: F,
): void {
  const fused = selectedVariant(image instanceof Float32Array ? 'float32' : 'float64').gemmCol2im;
  if (fused !== undefined) {
    fused(transA, m, n, k, a, aOffset, lda, b, bOffset, ldb, grid, image, imageOffset, columns);
    return;
  }
  gemm(transA, false, m, n, k, 1, a, aOffset, lda, b, bOffset, ldb, 0, columns, 0, n);
  col2im(grid, image, imageOffset, columns, 0);
}
