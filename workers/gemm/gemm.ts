import type { FloatArray } from '../geometry.js';

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
export function gemm<F extends FloatArray>(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: F,
  aOffset: number,
  lda: number,
  b: F,
  bOffset: number,
  ldb: number,
  beta: number,
  c: F,
  cOffset: number,
  ldc: number,
): void {
  scaleRows(m, n, beta, c, cOffset, ldc);
  if (alpha === 0 || k === 0) return;
  if (transB) {
    dotProducts(transA, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
  } else {
    rowUpdates(transA, m, n, k, alpha, a, aOffset, lda, b, bOffset, ldb, c, cOffset, ldc);
  }
}

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
function rowUpdates(
  transA: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: FloatArray,
  aOffset: number,
  lda: number,
  b: FloatArray,
  bOffset: number,
  ldb: number,
  c: FloatArray,
  cOffset: number,
  ldc: number,
): void {
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
}

/**
 * op(B) = B^T, stored [n x k]: each C[i, j] is a dot product of two stored rows (contiguous when
 * A is not transposed, which is the case the kernels use).
 */
function dotProducts(
  transA: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: FloatArray,
  aOffset: number,
  lda: number,
  b: FloatArray,
  bOffset: number,
  ldb: number,
  c: FloatArray,
  cOffset: number,
  ldc: number,
): void {
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
}
