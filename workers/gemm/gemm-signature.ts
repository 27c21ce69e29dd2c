import type { FloatArray } from '../geometry.js';
import type { SampleColumns } from '../kernels/sample-columns.js';

/**
 * The one GEMM interface every variant implements (see gemm.ts for the contract): row-major
 * C[m x n] = alpha * op(A) op(B) + beta * C on blocks of typed arrays given by offset and
 * leading dimension. All three arrays share one element type.
 */
export type Gemm = <F extends FloatArray>(
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
) => void;

/**
 * The transposed convolution's per-sample step as one call: columns = op(A) B (m x n, alpha 1,
 * beta 0, B not transposed), then those columns folded by col2im onto `image` at `imageOffset`.
 * `columns` (m * n elements) is the caller's scratch, which an implementation may leave unused.
 * Same results as gemm followed by workers/kernels/col2im.ts.
 */
export type GemmCol2im = <F extends FloatArray>(
  transA: boolean,
  m: number,
  n: number,
  k: number,
  a: F,
  aOffset: number,
  lda: number,
  b: F,
  bOffset: number,
  ldb: number,
  grid: SampleColumns,
  image: F,
  imageOffset: number,
  columns: F,
) => void;

/**
 * The convolutions' unfold-then-multiply step as one call: B = im2col of `image` at
 * `imageOffset` on `grid` (channels * kH * kW rows of colH * colW), then
 * C = alpha * op(A) op(B) + beta * C as gemm does. `columns` (one grid's columns) is the caller's
 * scratch, which an implementation may leave unused. Same results as im2col.ts followed by gemm.
 */
export type Im2colGemm = <F extends FloatArray>(
  grid: SampleColumns,
  image: F,
  imageOffset: number,
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: F,
  aOffset: number,
  lda: number,
  beta: number,
  c: F,
  cOffset: number,
  ldc: number,
  columns: F,
) => void;
