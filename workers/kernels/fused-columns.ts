import { gemm } from '../gemm/dispatch.js';
import type { GemmCol2imCall, Im2colGemmCall } from '../gemm/gemm-signature.js';
import { selectedVariant } from '../gemm/registry.js';
import type { FloatArray } from '../geometry.js';
import { col2im } from './col2im.js';
import { im2col } from './im2col.js';
import { columnsAreImage } from './sample-columns.js';

/**
 * The two steps every column-based convolution takes, each as one call: the selected GEMM
 * variant's own fused step where it has one (the WebAssembly one keeps the columns in its memory:
 * assembly/col2im.ts, assembly/im2col.ts), else col2im.ts / im2col.ts around the GEMM, through
 * `columns` (one grid's columns of scratch). The results are the same either way. Where the
 * columns are the image itself (columnsAreImage: a 1x1 window at stride 1, unpadded), the GEMM
 * reads or writes the image directly and `columns` goes unused.
 */
const variantOf = (a: FloatArray) => selectedVariant(a instanceof Float32Array ? 'float32' : 'float64');

/** columns = op(A) B (alpha 1, beta 0), folded by col2im onto the image. */
export function gemmThenCol2im<F extends FloatArray>(call: GemmCol2imCall<F>): void {
  const { transA, m, n, k, a, aOffset, lda, b, bOffset, ldb, grid, image, imageOffset, columns } = call;
  if (columnsAreImage(grid)) {
    gemm(transA, false, m, n, k, 1, a, aOffset, lda, b, bOffset, ldb, 0, image, imageOffset, n);
    return;
  }
  const fused = variantOf(image).gemmCol2im;
  if (fused !== undefined) {
    fused(call);
    return;
  }
  gemm(transA, false, m, n, k, 1, a, aOffset, lda, b, bOffset, ldb, 0, columns, 0, n);
  col2im(grid, image, imageOffset, columns, 0);
}

/** B = im2col of the image, then C = alpha * op(A) op(B) + beta * C. */
export function im2colThenGemm<F extends FloatArray>(call: Im2colGemmCall<F>): void {
  const { grid, image, imageOffset, columns, transA, transB, m, n, k, alpha, a, aOffset, lda, beta, c, cOffset, ldc } =
    call;
  // The columns' rows are colH * colW long, whether they are the image or the scratch.
  const ldb = grid.colH * grid.colW;
  if (columnsAreImage(grid)) {
    gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, image, imageOffset, ldb, beta, c, cOffset, ldc);
    return;
  }
  const fused = variantOf(c).im2colGemm;
  if (fused !== undefined) {
    fused(call);
    return;
  }
  im2col(grid, image, imageOffset, columns, 0);
  gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, columns, 0, ldb, beta, c, cOffset, ldc);
}
