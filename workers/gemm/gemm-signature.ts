import type { FloatArray } from '../geometry.js';

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
