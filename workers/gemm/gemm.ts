import type { FloatArray } from '../geometry.js';
import type { Gemm, GemmArgs } from './gemm-signature.js';

/**
 * Row-major `C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C`, where op transposes its
 * matrix when the flag is set. A stored matrix is read from `offset` with `ld` elements between
 * the starts of its rows, so a block of a larger buffer needs no copy.
 *
 * THBlas_(gemm) has the same contract in column-major order. A row-major matrix is the
 * column-major storage of its transpose, and C^T = op(B)^T * op(A)^T, so this call equals
 * THBlas_(gemm)(transB, transA, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc) on the same
 * buffers: swap the operands, never the data.
 *
 * As in BLAS, beta == 0 overwrites C without reading it (NaN already in C does not leak into the
 * result) and alpha == 0 skips the product (NaN in A or B does not reach C). Zero entries of A or
 * B are not skipped otherwise: 0 * NaN must stay NaN.
 *
 * This is the readable reference implementation; each loop order keeps the innermost loop on
 * contiguous memory for the layouts the convolution kernels use.
 */
export const gemm: Gemm = (transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc) => {
  scaleRows(m, n, beta, c, cOffset, ldc);
  if (alpha === 0 || k === 0) return;
  const product = transB ? dotProducts : rowUpdates;
  product(transA, transB, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, beta, c, cOffset, ldc);
};

/**
 * C += alpha * op(A) op(B), for one of the two layouts of B: GEMM's arguments, beta already
 * applied and transB chosen by the caller.
 */
type Product = (...args: GemmArgs<FloatArray>) => void;

function scaleRows(m: number, n: number, beta: number, c: FloatArray, cOffset: number, ldc: number): void {
  if (beta === 1) return;
  for (let i = 0; i < m; i++) {
    const row = cOffset + i * ldc;
    if (beta === 0) {
      c.fill(0, row, row + n);
    } else {
      for (let j = 0; j < n; j++) c[row + j] *= beta;
    }
  }
}

/**
 * op(B) = B, stored [k x n]: order i-p-j, so row i of C stays hot while rows of B stream past it
 * and the inner loop walks both contiguously.
 */
const rowUpdates: Product = (
  transA,
  _transB,
  m,
  n,
  k,
  alpha,
  a,
  aOffset,
  lda,
  b,
  bOffset,
  ldb,
  _beta,
  c,
  cOffset,
  ldc,
) => {
  // op(A)[i, p] lives at rowStep * i + colStep * p.
  const rowStep = transA ? 1 : lda;
  const colStep = transA ? lda : 1;
  for (let i = 0; i < m; i++) {
    const cRow = cOffset + i * ldc;
    const aRow = aOffset + i * rowStep;
    for (let p = 0; p < k; p++) {
      const s = alpha * a[aRow + p * colStep];
      const bRow = bOffset + p * ldb;
      for (let j = 0; j < n; j++) c[cRow + j] += s * b[bRow + j];
    }
  }
};

/**
 * op(B) = B^T, stored [n x k]: each C[i, j] is a dot product of two stored rows (contiguous when
 * A is not transposed, which is the case the kernels use).
 */
// The same walk over A as rowUpdates', in the other loop order: each order keeps its innermost
// loop on contiguous memory, which one shared loop nest could not.
const dotProducts: Product = (
  transA,
  _transB,
  m,
  n,
  k,
  alpha,
  a,
  aOffset,
  lda,
  b,
  bOffset,
  ldb,
  _beta,
  c,
  cOffset,
  ldc,
) => {
  const rowStep = transA ? 1 : lda;
  const colStep = transA ? lda : 1;
  for (let i = 0; i < m; i++) {
    const cRow = cOffset + i * ldc;
    const aRow = aOffset + i * rowStep;
    for (let j = 0; j < n; j++) {
      const bRow = bOffset + j * ldb;
      let sum = 0;
      for (let p = 0; p < k; p++) sum += a[aRow + p * colStep] * b[bRow + p];
      c[cRow + j] += alpha * sum;
    }
  }
};
