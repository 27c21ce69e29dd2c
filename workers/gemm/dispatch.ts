import type { FloatArray } from '../geometry.js';
import type { Gemm } from './gemm-signature.js';
import { selectedVariant } from './registry.js';

/** The GEMM the kernels call: the selected variant for the arrays' element type. */
export const gemm: Gemm = <F extends FloatArray>(
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
): void =>
  selectedVariant(c instanceof Float32Array ? 'float32' : 'float64').gemm(
    transA,
    transB,
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
    beta,
    c,
    cOffset,
    ldc,
  );
